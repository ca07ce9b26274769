'use strict';
// s3rver with a per-request access log in the same format as the test nginx's:
//   METHOD URI STATUS LENGTH
// s3rver's own log cannot be counted: it drops the method and cuts the start off the URL.
// It also answers the multipart errors S3 answers where s3rver 3.7.1 does not (see
// guardMultipart), and keeps idle connections open as long as the test nginx does.
//
// usage: node s3rver-logged.js --directory DIR --access-log FILE --port-file FILE
//          [--bucket NAME]...
// Listens on 127.0.0.1 on a port the kernel picks and writes it to --port-file once listening.
// A request with the header x-haul-probe (the start script's readiness check) is not logged.
const fs = require('fs');
const path = require('path');
const S3rver = require(path.join(__dirname, 'node_modules', 's3rver'));
const S3Error = require(path.join(__dirname, 'node_modules', 's3rver', 'lib', 'models', 'error'));

function parseArgs(argv) {
  const opts = { buckets: [] };
  for (let i = 0; i < argv.length; i += 2) {
    const [name, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${name} needs a value`);
    if (name === '--directory') opts.directory = value;
    else if (name === '--access-log') opts.accessLog = value;
    else if (name === '--port-file') opts.portFile = value;
    else if (name === '--bucket') opts.buckets.push(value);
    else throw new Error(`unknown option ${name}`);
  }
  const required = { directory: '--directory', accessLog: '--access-log', portFile: '--port-file' };
  for (const [key, flag] of Object.entries(required)) {
    if (!opts[key]) throw new Error(`${flag} is required`);
  }
  return opts;
}

// LENGTH is what nginx's $request_length is: the bytes read from the connection for this
// request (request line, headers and body), measured as the socket's read count since the
// previous request on the same connection ended.
function installAccessLog(httpServer, file) {
  const fd = fs.openSync(file, 'a');
  const consumed = new WeakMap();
  httpServer.prependListener('request', (req, res) => {
    if ('x-haul-probe' in req.headers) return;
    const socket = req.socket;
    let logged = false;
    const log = (status) => {
      if (logged) return;
      logged = true;
      const before = consumed.get(socket) || 0;
      consumed.set(socket, socket.bytesRead);
      // Synchronous and before the response goes out: a client that has its answer finds the
      // line already in the file.
      fs.writeSync(fd, `${req.method} ${req.url} ${status} ${socket.bytesRead - before}\n`);
    };
    const end = res.end;
    res.end = function (...args) {
      log(res.statusCode);
      return end.apply(this, args);
    };
    // The client went away before an answer: nginx logs that as 499 too.
    res.on('close', () => log(res.writableFinished ? res.statusCode : 499));
  });
}

// s3rver 3.7.1 accepts a part for an upload id it never issued, and a CompleteMultipartUpload
// naming a part that was never uploaded crashes the whole process (an unhandled stream error).
// S3 answers these with NoSuchUpload (404), InvalidPart and InvalidPartOrder (400); so do we.
// Not added: S3's EntityTooSmall (parts under 5 MiB but the last), ListParts, Abort.
function guardMultipart(store) {
  const uploadDir = (bucket, uploadId) =>
    path.join(store.getResourcePath(bucket, undefined, 'uploads'), String(uploadId));
  const requireUpload = (bucket, uploadId) => {
    if (!fs.existsSync(path.join(uploadDir(bucket, uploadId), 'key'))) {
      throw new S3Error(
        'NoSuchUpload',
        'The specified upload does not exist. The upload ID may be invalid, or the upload ' +
          'may have been aborted or completed.',
        { UploadId: uploadId },
      );
    }
  };

  const putPart = store.putPart.bind(store);
  store.putPart = async (bucket, uploadId, partNumber, content) => {
    requireUpload(bucket, uploadId);
    return putPart(bucket, uploadId, partNumber, content);
  };

  const complete = store.putObjectMultipart.bind(store);
  store.putObjectMultipart = async (bucket, uploadId, parts) => {
    requireUpload(bucket, uploadId);
    let previous = 0;
    for (const part of parts) {
      if (!(part.number > previous)) {
        throw new S3Error(
          'InvalidPartOrder',
          'The list of parts was not in ascending order. The parts list must be specified ' +
            'in order by part number.',
          { UploadId: uploadId },
        );
      }
      previous = part.number;
      let md5;
      try {
        md5 = fs.readFileSync(path.join(uploadDir(bucket, uploadId), `${part.number}.md5`), 'utf8');
      } catch (err) {
        md5 = undefined;
      }
      // s3rver has already stripped the quotes from the ETag the client sent.
      if (md5 !== part.etag) {
        throw new S3Error(
          'InvalidPart',
          'One or more of the specified parts could not be found. The part may not have ' +
            "been uploaded, or the specified entity tag may not match the part's entity tag.",
          { UploadId: uploadId, PartNumber: part.number, ETag: part.etag },
        );
      }
    }
    return complete(bucket, uploadId, parts);
  };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  fs.mkdirSync(opts.directory, { recursive: true });
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    directory: opts.directory,
    configureBuckets: opts.buckets.map((name) => ({ name, configs: [] })),
    // Path-style URLs only: 127.0.0.1 must never be taken for a bucket name.
    vhostBuckets: false,
  });
  guardMultipart(server.store);
  const { port } = await server.run();
  // Node closes idle keep-alive connections after 5 s; a client that reuses one just then
  // sees a reset that no real S3 endpoint would cause.
  server.httpServer.keepAliveTimeout = 300 * 1000;
  server.httpServer.headersTimeout = 301 * 1000;
  // Node 18+ cuts off a request still uploading after 300 s; big benchmark uploads may take longer.
  server.httpServer.requestTimeout = 0;
  installAccessLog(server.httpServer, opts.accessLog);
  const tmp = `${opts.portFile}.tmp`;
  fs.writeFileSync(tmp, `${port}\n`);
  fs.renameSync(tmp, opts.portFile);
  console.log(`s3rver-logged: listening on 127.0.0.1:${port}, buckets: ${opts.buckets.join(' ')}`);

  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.on(signal, () => process.exit(0));
  }
}

main().catch((err) => {
  console.error(`s3rver-logged: ${err.stack || err}`);
  process.exit(1);
});
