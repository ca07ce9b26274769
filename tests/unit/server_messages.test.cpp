// Golden text of every problem of a [server] table, as `haul validate` (and `haul serve`)
// print them: those found while the file is read, and those of the later checks that need
// the environment or the disk (an unset token_env variable, a non-loopback listen without a
// token, an export root that is not a directory, bad [server.s3] settings), each at the key
// it is about. Line 1 of every case is "[server]"; a value starts one column after "key = ".

#include <fstream>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "tests/unit/temp_dir.hpp"
#include "tests/unit/validation_golden.hpp"

using namespace haul;
using haul::test::check_golden;
using haul::test::joined;
using haul::test::validate_text;

namespace {

const std::string server = "[server]\n";
const std::string listen_hint = " (expected HOST:PORT, such as 127.0.0.1:8700 or [::1]:8700)";
const std::string needs_token =
    "listening on 0.0.0.0, which other machines can reach, needs a bearer token: set "
    "token_env in [server] to the name of an environment variable holding it";
const std::string s3_keys = " (expected endpoint, region, access_key_env, secret_key_env, "
                            "session_token_env, path_style, sign_payload)";
const std::string s3_credentials = "access_key_env = \"HAUL_GOLDEN_KEY\"\n"
                                   "secret_key_env = \"HAUL_GOLDEN_SECRET\"\n";

struct golden_env {
  golden_env() { test::set_golden_env(); }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(server_messages, golden_env)

BOOST_AUTO_TEST_CASE(a_valid_server_table_has_no_problems) {
  check_golden(server, {
                           {"", {}},
                           {"listen = \"0.0.0.0:8700\"\ntoken_env = \"HAUL_GOLDEN_KEY\"\n", {}},
                           {"[server.s3]\n" + s3_credentials + "path_style = true\n", {}},
                       });
}

BOOST_AUTO_TEST_CASE(listen) {
  check_golden(
      server,
      {
          {"listen = 8700\n",
           {"jobs.toml:2:10: server.listen: expected a string such as \"127.0.0.1:8700\", found "
            "an integer"}},
          {"listen = \"8700\"\n",
           {"jobs.toml:2:10: server.listen: listen address \"8700\": no port" + listen_hint}},
          {"listen = \"::1:80\"\n",
           {"jobs.toml:2:10: server.listen: listen address \"::1:80\": an IPv6 address goes in "
            "brackets" +
            listen_hint}},
          {"listen = \":80\"\n",
           {"jobs.toml:2:10: server.listen: listen address \":80\": no host" + listen_hint}},
          {"listen = \"h:99999\"\n",
           {"jobs.toml:2:10: server.listen: listen address \"h:99999\": the port must be a "
            "number from 0 to 65535" +
            listen_hint}},
          {"listen = \"0.0.0.0:8700\"\n", {"jobs.toml:2:10: server.listen: " + needs_token}},
      });
}

BOOST_AUTO_TEST_CASE(listen_from_the_command_line) {
  BOOST_TEST(joined(validate_text(server, "nope")) ==
             joined({"--listen: listen address \"nope\": no port" + listen_hint}));
  // The fix is in the file: the message is placed at its [server] table, or at the file.
  BOOST_TEST(joined(validate_text(server, "0.0.0.0:0")) ==
             joined({"jobs.toml:1:1: --listen: " + needs_token}));
  BOOST_TEST(joined(validate_text("[[job]]\nname = \"n\"\nkind = \"noop\"\n", "0.0.0.0:0")) ==
             joined({"jobs.toml: --listen: " + needs_token}));
}

BOOST_AUTO_TEST_CASE(token_env) {
  check_golden(server,
               {
                   {"token_env = 5\n",
                    {"jobs.toml:2:13: server.token_env: expected a string, found an integer"}},
                   {"token_env = \"\"\n",
                    {"jobs.toml:2:13: server.token_env: expected the name of an environment "
                     "variable, found an empty string"}},
                   {"token_env = \"s3cr3t t0ken\"\n",
                    {"jobs.toml:2:13: server.token_env: expected the name of an environment "
                     "variable (letters, digits and '_'), found other text; the secret goes in "
                     "that variable, never in the job file"}},
                   {"token_env = \"HAUL_GOLDEN_UNSET\"\n",
                    {"jobs.toml:2:13: server.token_env: environment variable HAUL_GOLDEN_UNSET "
                     "is not set"}},
               });
}

BOOST_AUTO_TEST_CASE(export_roots) {
  test::temp_dir dir;
  { std::ofstream(dir.sub("plain-file")) << "x"; }
  check_golden(
      server,
      {
          {"export_roots = \"data\"\n",
           {"jobs.toml:2:16: server.export_roots: expected an array of directory paths, found a "
            "string"}},
          {"export_roots = [\"\", 5]\n",
           {"jobs.toml:2:17: server.export_roots[0]: expected a directory path, found an empty "
            "string",
            "jobs.toml:2:21: server.export_roots[1]: expected a directory path, found an "
            "integer"}},
          {"export_roots = [\"/nonexistent-haul-golden\"]\n",
           {"jobs.toml:2:17: server.export_roots[0]: expected an existing directory, found "
            "\"/nonexistent-haul-golden\": No such file or directory"}},
          {"export_roots = [\"" + dir.path() + "\", \"" + dir.sub("plain-file") + "\"]\n",
           {"jobs.toml:2:" + std::to_string(21 + dir.path().size()) +
            ": server.export_roots[1]: expected a directory, found \"" + dir.sub("plain-file") +
            "\", which is not one"}},
      });
}

BOOST_AUTO_TEST_CASE(s3) {
  check_golden(
      server,
      {
          {"s3 = 5\n",
           {"jobs.toml:2:6: server.s3: expected a table ([server.s3]), found an integer"}},
          {"[server.s3]\nendpoint = [\"x\"]\n",
           {"jobs.toml:3:12: server.s3.endpoint: expected a string, number or boolean, found "
            "an array"}},
          {"[server.s3]\nregoin = \"auto\"\n",
           {"jobs.toml:3:10: server.s3: unknown key 'regoin' (did you mean 'region'?)" + s3_keys}},
          {"[server.s3]\ncompression = \"gzip\"\n",
           {"jobs.toml:3:15: server.s3: unknown key 'compression'" + s3_keys}},
          {"[server.s3]\n" + s3_credentials + "endpoint = \"ftp://x\"\npath_style = \"yes\"\n",
           {"jobs.toml:5:12: server.s3.endpoint: expected http(s)://HOST[:PORT] with no path, "
            "found \"ftp://x\"",
            "jobs.toml:6:14: server.s3.path_style: expected true or false, found \"yes\""}},
          {"[server.s3]\nsession_token_env = \"HAUL_GOLDEN_UNSET\"\n" + s3_credentials,
           {"jobs.toml:3:21: server.s3.session_token_env: environment variable "
            "HAUL_GOLDEN_UNSET is not set"}},
      });
}

BOOST_AUTO_TEST_CASE(s3_credentials_left_to_their_defaults_are_placed_at_the_table) {
  test::scoped_env key("AWS_ACCESS_KEY_ID", std::nullopt);
  test::scoped_env secret("AWS_SECRET_ACCESS_KEY", std::nullopt);
  check_golden(server, {{"listen = \"127.0.0.1:0\"\n[server.s3]\nregion = \"auto\"\n",
                         {"jobs.toml:3:1: server.s3.access_key_env: environment variable "
                          "AWS_ACCESS_KEY_ID is not set",
                          "jobs.toml:3:1: server.s3.secret_key_env: environment variable "
                          "AWS_SECRET_ACCESS_KEY is not set"}}});
}

BOOST_AUTO_TEST_CASE(unknown_keys) {
  check_golden(server, {
                           {"port = 1\n", {"jobs.toml:2:8: server: unknown key 'port'"}},
                           {"listn = \"127.0.0.1:1\"\n",
                            {"jobs.toml:2:9: server: unknown key 'listn' (did you mean "
                             "'listen'?)"}},
                       });
}

BOOST_AUTO_TEST_CASE(every_later_problem_is_reported_at_once) {
  check_golden(server, {{"export_roots = [\"/nonexistent-haul-golden\"]\n"
                         "token_env = \"HAUL_GOLDEN_UNSET\"\n"
                         "[server.s3]\n" +
                             s3_credentials + "region = \"x y\"\n",
                         {"jobs.toml:3:13: server.token_env: environment variable "
                          "HAUL_GOLDEN_UNSET is not set",
                          "jobs.toml:2:17: server.export_roots[0]: expected an existing "
                          "directory, found \"/nonexistent-haul-golden\": No such file or "
                          "directory",
                          "jobs.toml:7:10: server.s3.region: expected a region such as "
                          "\"us-east-1\" or \"auto\", found \"x y\""}}});
}

BOOST_AUTO_TEST_SUITE_END()
