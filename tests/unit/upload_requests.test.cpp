// The upload kind's settings, S3 requests and multipart checkpoints: pure functions.

#include <cstdlib>

#include <boost/test/unit_test.hpp>

#include "runtime/upload/multipart_checkpoint.hpp"
#include "runtime/upload/s3_requests.hpp"
#include "runtime/upload/upload_config.hpp"

using namespace haul;
using namespace haul::upload;

namespace {

job_params s3_params() {
  ::setenv("HAUL_UNIT_KEY", "AKIDEXAMPLE", 1);
  ::setenv("HAUL_UNIT_SECRET", "secret", 1);
  return {{"source", "/data"},
          {"target", "s3://bucket/pre/fix"},
          {"s3.endpoint", "http://127.0.0.1:9000"},
          {"s3.region", "eu-west-1"},
          {"s3.access_key_env", "HAUL_UNIT_KEY"},
          {"s3.secret_key_env", "HAUL_UNIT_SECRET"},
          {"s3.path_style", "true"}};
}

std::string header(const transfer_request& r, std::string_view name) {
  for (const auto& h : r.headers)
    if (h.size() > name.size() && h.compare(0, name.size(), name) == 0 && h[name.size()] == ':')
      return h.substr(name.size() + 2);
  return "(none)";
}

std::chrono::system_clock::time_point at_2013_05_24() {
  return std::chrono::system_clock::time_point(std::chrono::seconds(1369353600));
}

} // namespace

BOOST_AUTO_TEST_SUITE(upload_requests)

BOOST_AUTO_TEST_CASE(an_http_target_parses_with_defaults) {
  auto c = parse_upload_config({{"source", "/d"}, {"target", "http://h:8080/cache"}});
  BOOST_REQUIRE_MESSAGE(c.has_value(), (c ? "" : c.error().message));
  BOOST_TEST((c->target == upload_config::target_type::http));
  BOOST_TEST(c->http_base == "http://h:8080/cache/");
  BOOST_TEST(c->multipart_threshold == 64ull << 20);
  BOOST_TEST(c->timeouts.stall.count() == 30'000);
}

BOOST_AUTO_TEST_CASE(bad_settings_are_reported_by_key) {
  auto expect = [](job_params p, const std::string& text) {
    auto c = parse_upload_config(p);
    BOOST_TEST_REQUIRE(!c.has_value());
    BOOST_TEST(c.error().message.find(text) != std::string::npos, c.error().message);
  };
  expect({{"target", "http://h/"}}, "source, manifest: set exactly one");
  expect({{"source", "/d"}, {"manifest", "/m"}, {"target", "http://h/"}}, "exactly one");
  expect({{"source", "/d"}}, "target: missing");
  expect({{"source", "/d"}, {"target", "ftp://h/"}}, "target: expected an http://");
  expect({{"source", "/d"}, {"target", "http://h/"}, {"part_size", "1MiB"}}, "part_size");
  expect({{"source", "/d"}, {"target", "http://h/"}, {"stall_timeout", "30"}}, "stall_timeout");
  expect({{"source", "/d"}, {"target", "http://h/"}, {"colour", "red"}}, "unknown key 'colour'");
  expect({{"source", "/d"}, {"target", "http://h/"}, {"s3.region", "x"}}, "s3.region: S3 settings");
  expect({{"source", "/d"}, {"target", "http://h/"}, {"headers.Bad Name", "x"}},
         "headers.Bad Name");
  expect({{"source", "/d"}, {"target", "s3://b/"}, {"s3.access_key_env", "HAUL_NOT_SET_123"}},
         "environment variable HAUL_NOT_SET_123 is not set");
}

BOOST_AUTO_TEST_CASE(an_s3_target_splits_into_bucket_prefix_and_endpoint) {
  auto c = parse_upload_config(s3_params());
  BOOST_REQUIRE_MESSAGE(c.has_value(), (c ? "" : c.error().message));
  BOOST_TEST(c->s3.bucket == "bucket");
  BOOST_TEST(c->s3.prefix == "pre/fix/");
  BOOST_TEST(c->s3.scheme == "http");
  BOOST_TEST(c->s3.host == "127.0.0.1:9000");
  BOOST_TEST(c->s3.region == "eu-west-1");
}

BOOST_AUTO_TEST_CASE(the_default_endpoint_is_the_regions_aws_endpoint) {
  auto p = s3_params();
  p.erase("s3.endpoint");
  p.erase("s3.path_style");
  auto c = parse_upload_config(p);
  BOOST_REQUIRE(c.has_value());
  BOOST_TEST(c->s3.host == "s3.eu-west-1.amazonaws.com");
  s3_requests s3(*c, {"AKIDEXAMPLE", "secret", ""});
  BOOST_TEST(s3.object_url("a b") == "https://bucket.s3.eu-west-1.amazonaws.com/pre/fix/a%20b");
}

BOOST_AUTO_TEST_CASE(a_put_is_path_style_encoded_and_signed) {
  auto c = parse_upload_config(s3_params());
  BOOST_REQUIRE(c.has_value());
  s3_requests s3(*c, {"AKIDEXAMPLE", "secret", ""});
  auto r =
      s3.put_object("dir/caf\xc3\xa9 1+1.txt", {"/data/x", 0, 10}, "text/plain", at_2013_05_24());
  BOOST_TEST(r.method == "PUT");
  BOOST_TEST(r.url == "http://127.0.0.1:9000/bucket/pre/fix/dir/caf%C3%A9%201%2B1.txt");
  BOOST_TEST(r.body_path == "/data/x");
  BOOST_TEST(r.body_length == 10u);
  BOOST_TEST(header(r, "Content-Type") == "text/plain");
  BOOST_TEST(header(r, "x-amz-content-sha256") == "UNSIGNED-PAYLOAD");
  BOOST_TEST(header(r, "x-amz-date") == "20130524T000000Z");
  auto auth = header(r, "Authorization");
  BOOST_TEST(auth.find("Credential=AKIDEXAMPLE/20130524/eu-west-1/s3/aws4_request") !=
             std::string::npos);
  BOOST_TEST(auth.find("SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_header_from_the_environment_is_sent_and_signed) {
  ::setenv("HAUL_UNIT_API_KEY", "k3y-value", 1);
  auto p = s3_params();
  p["headers_env.X-Api-Key"] = "HAUL_UNIT_API_KEY"; // what the store keeps: the name
  auto c = parse_upload_config(p);
  BOOST_REQUIRE(c.has_value());
  s3_requests s3(*c, {"AKIDEXAMPLE", "secret", ""});
  auto r = s3.put_object("k", {"/data/x", 0, 10}, "", at_2013_05_24());
  BOOST_TEST(header(r, "X-Api-Key") == "k3y-value");
  BOOST_TEST(header(r, "Authorization").find("x-amz-date;x-api-key") != std::string::npos);
  ::unsetenv("HAUL_UNIT_API_KEY");
}

BOOST_AUTO_TEST_CASE(a_credential_header_written_in_the_job_file_is_refused) {
  auto p = s3_params();
  p["headers.Authorization"] = "Bearer abc";
  auto c = parse_upload_config(p);
  BOOST_TEST_REQUIRE(!c.has_value());
  BOOST_TEST(c.error().message.find("headers.Authorization: a credential header") == 0u,
             c.error().message);
  BOOST_TEST(c.error().message.find("Bearer abc") == std::string::npos); // never repeated
}

BOOST_AUTO_TEST_CASE(multipart_requests_carry_their_query_parameters) {
  auto c = parse_upload_config(s3_params());
  BOOST_REQUIRE(c.has_value());
  s3_requests s3(*c, {"AKIDEXAMPLE", "secret", ""});
  auto now = at_2013_05_24();
  BOOST_TEST(s3.create_multipart("k", "", now).url ==
             "http://127.0.0.1:9000/bucket/pre/fix/k?uploads=");
  BOOST_TEST(s3.upload_part("k", "id/+=", 3, {"/f", 10, 5}, now).url ==
             "http://127.0.0.1:9000/bucket/pre/fix/k?partNumber=3&uploadId=id%2F%2B%3D");
  auto done = s3.complete_multipart("k", "U", {"\"a\"", "\"b&\""}, now);
  BOOST_TEST(done.method == "POST");
  BOOST_TEST(done.body_data == "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"
                               "&quot;a&quot;</ETag></Part><Part><PartNumber>2</PartNumber>"
                               "<ETag>&quot;b&amp;&quot;</ETag></Part></CompleteMultipartUpload>");
  // The body of a completion is signed: its hash, not UNSIGNED-PAYLOAD.
  BOOST_TEST(header(done, "x-amz-content-sha256") != "UNSIGNED-PAYLOAD");
  BOOST_TEST(header(done, "x-amz-content-sha256").size() == 64u);
}

BOOST_AUTO_TEST_CASE(xml_elements_are_found_and_unescaped) {
  auto xml = "<R><Bucket>b</Bucket><UploadId>a&amp;b&lt;c</UploadId></R>";
  BOOST_TEST(xml_element(xml, "UploadId").value_or("") == "a&b<c");
  BOOST_TEST(!xml_element(xml, "Key").has_value());
}

BOOST_AUTO_TEST_CASE(part_sizes_grow_to_stay_within_ten_thousand_parts) {
  upload_config c;
  c.part_size = 8ull << 20;
  BOOST_TEST(part_size_for(c, 1ull << 30) == 8ull << 20);
  auto big = 200ull << 30; // 200 GiB / 10,000 parts = 20.48 MiB, rounded up to 21 MiB
  BOOST_TEST(part_size_for(c, big) == 21ull << 20);
}

BOOST_AUTO_TEST_CASE(a_multipart_checkpoint_round_trips_and_rejects_other_shapes) {
  auto cp = plan_multipart(11u << 20, 5u << 20);
  BOOST_TEST(cp.parts() == 3u);
  BOOST_TEST(cp.parts_done() == 0u);
  cp.upload_id = "U1";
  cp.etags[1] = "\"e2\"";
  auto back = decode_checkpoint(encode_checkpoint(cp));
  BOOST_REQUIRE(back.has_value());
  BOOST_TEST((*back == cp));
  BOOST_TEST(back->parts_done() == 1u);
  BOOST_TEST(!decode_checkpoint(reset_checkpoint).has_value());
  BOOST_TEST(!decode_checkpoint("not json").has_value());
  BOOST_TEST(!decode_checkpoint(R"({"upload_id":"U","size":100,"part_size":10,"etags":["a"]})")
                  .has_value()); // ten parts expected
}

BOOST_AUTO_TEST_SUITE_END()
