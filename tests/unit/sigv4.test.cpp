#include "runtime/upload/sigv4.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <string>
#include <utility>

#include <boost/test/unit_test.hpp>

using namespace haul::upload;
using namespace std::chrono;

namespace {

// Every expected canonical request, string to sign and signature below is copied from AWS's
// published material, never computed by the code under test:
//
// S3: "Signature Calculations for the Authorization Header: Transferring Payload in a Single
// Chunk (AWS Signature Version 4)", section "Examples: Signature Calculations",
// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
//
// Generic SigV4 (service "service"): AWS's SigV4 test suite,
// https://docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html, in the edition
// AWS maintains in awslabs/aws-c-auth, tests/aws-signing-test-suite/v4/<case>/
// (header-canonical-request.txt, header-string-to-sign.txt, header-signature.txt,
// header-signed-request.txt), read at commit 495329c2433034bd8fd53fc6ba9e0202d3fac876.

const sigv4_credentials s3_example_credentials{"AKIAIOSFODNN7EXAMPLE",
                                               "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
constexpr std::string_view s3_example_date = "20130524T000000Z";
constexpr std::string_view s3_example_host = "examplebucket.s3.amazonaws.com";

const sigv4_credentials suite_credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                          ""};
constexpr std::string_view suite_date = "20150830T123600Z";

sigv4_signed sign_s3_example(sigv4_request request) {
  request.host = s3_example_host;
  return sign_sigv4(request, s3_example_credentials, "us-east-1", "s3", s3_example_date);
}

sigv4_signed sign_suite_case(sigv4_request request) {
  request.host = "example.amazonaws.com";
  return sign_sigv4(request, suite_credentials, "us-east-1", "service", suite_date);
}

/// S3's examples print the Authorization value with "," between its parts where the signer
/// (like the AWS SDKs) writes ", "; S3 accepts both.
std::string without_space_after_commas(std::string s) {
  for (std::size_t at = s.find(", "); at != std::string::npos; at = s.find(", ", at))
    s.erase(at + 1, 1);
  return s;
}

std::string value_of(const sigv4_signed& s, std::string_view name) {
  for (const auto& [n, v] : s.headers_to_send)
    if (n == name)
      return v;
  return "<absent>";
}

} // namespace

BOOST_AUTO_TEST_SUITE(sigv4)

// --- S3 documentation examples ------------------------------------------------------------

BOOST_AUTO_TEST_CASE(the_s3_get_object_example_with_a_range_header_signs_as_published) {
  sigv4_request r;
  r.method = "GET";
  r.path = "/test.txt";
  r.headers = {{"Range", "bytes=0-9"}};
  r.payload_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  auto s = sign_s3_example(r);

  BOOST_TEST(
      s.canonical_request ==
      "GET\n"
      "/test.txt\n"
      "\n"
      "host:examplebucket.s3.amazonaws.com\n"
      "range:bytes=0-9\n"
      "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
      "x-amz-date:20130524T000000Z\n"
      "\n"
      "host;range;x-amz-content-sha256;x-amz-date\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  BOOST_TEST(s.string_to_sign ==
             "AWS4-HMAC-SHA256\n"
             "20130524T000000Z\n"
             "20130524/us-east-1/s3/aws4_request\n"
             "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  BOOST_TEST(s.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  BOOST_TEST(without_space_after_commas(s.authorization) ==
             "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
             "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
             "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

BOOST_AUTO_TEST_CASE(the_s3_put_object_example_with_storage_class_and_date_signs_as_published) {
  // The body is "Welcome to Amazon S3."; the key test$file.text is sent as test%24file.text.
  BOOST_TEST(sha256_hex("Welcome to Amazon S3.") ==
             "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  BOOST_TEST(uri_encode("test$file.text", false) == "test%24file.text");

  sigv4_request r;
  r.method = "PUT";
  r.path = "/test%24file.text";
  r.headers = {{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
               {"x-amz-storage-class", "REDUCED_REDUNDANCY"}};
  r.payload_sha256 = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";
  auto s = sign_s3_example(r);

  BOOST_TEST(
      s.canonical_request ==
      "PUT\n"
      "/test%24file.text\n"
      "\n"
      "date:Fri, 24 May 2013 00:00:00 GMT\n"
      "host:examplebucket.s3.amazonaws.com\n"
      "x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\n"
      "x-amz-date:20130524T000000Z\n"
      "x-amz-storage-class:REDUCED_REDUNDANCY\n"
      "\n"
      "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n"
      "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  BOOST_TEST(s.string_to_sign ==
             "AWS4-HMAC-SHA256\n"
             "20130524T000000Z\n"
             "20130524/us-east-1/s3/aws4_request\n"
             "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
  BOOST_TEST(s.signature == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
  BOOST_TEST(without_space_after_commas(s.authorization) ==
             "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
             "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,"
             "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

BOOST_AUTO_TEST_CASE(the_s3_get_bucket_lifecycle_example_signs_a_valueless_parameter) {
  sigv4_request r;
  r.method = "GET";
  r.path = "/";
  r.query = {{"lifecycle", ""}};
  r.payload_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  auto s = sign_s3_example(r);

  BOOST_TEST(s.query_string == "lifecycle=");
  BOOST_TEST(
      s.canonical_request ==
      "GET\n"
      "/\n"
      "lifecycle=\n"
      "host:examplebucket.s3.amazonaws.com\n"
      "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
      "x-amz-date:20130524T000000Z\n"
      "\n"
      "host;x-amz-content-sha256;x-amz-date\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  BOOST_TEST(s.string_to_sign ==
             "AWS4-HMAC-SHA256\n"
             "20130524T000000Z\n"
             "20130524/us-east-1/s3/aws4_request\n"
             "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca");
  BOOST_TEST(s.signature == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
  BOOST_TEST(without_space_after_commas(s.authorization) ==
             "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
             "SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
             "Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

BOOST_AUTO_TEST_CASE(the_s3_list_objects_example_signs_its_parameters_sorted) {
  sigv4_request r;
  r.method = "GET";
  r.path = "/";
  r.query = {{"prefix", "J"}, {"max-keys", "2"}}; // given out of order on purpose
  r.payload_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  auto s = sign_s3_example(r);

  BOOST_TEST(s.query_string == "max-keys=2&prefix=J");
  BOOST_TEST(
      s.canonical_request ==
      "GET\n"
      "/\n"
      "max-keys=2&prefix=J\n"
      "host:examplebucket.s3.amazonaws.com\n"
      "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
      "x-amz-date:20130524T000000Z\n"
      "\n"
      "host;x-amz-content-sha256;x-amz-date\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  BOOST_TEST(s.string_to_sign ==
             "AWS4-HMAC-SHA256\n"
             "20130524T000000Z\n"
             "20130524/us-east-1/s3/aws4_request\n"
             "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7");
  BOOST_TEST(s.signature == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
  BOOST_TEST(without_space_after_commas(s.authorization) ==
             "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
             "SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
             "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

// --- AWS SigV4 test suite (service "service", no x-amz-content-sha256 unless noted) -------

BOOST_AUTO_TEST_CASE(the_suite_case_get_vanilla_signs_as_published) {
  sigv4_request r;
  r.method = "GET";
  r.path = "/";
  r.add_content_sha256_header = false;
  auto s = sign_suite_case(r);

  BOOST_TEST(s.canonical_request ==
             "GET\n"
             "/\n"
             "\n"
             "host:example.amazonaws.com\n"
             "x-amz-date:20150830T123600Z\n"
             "\n"
             "host;x-amz-date\n"
             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  BOOST_TEST(s.string_to_sign ==
             "AWS4-HMAC-SHA256\n"
             "20150830T123600Z\n"
             "20150830/us-east-1/service/aws4_request\n"
             "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  BOOST_TEST(s.signature == "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  BOOST_TEST(s.authorization ==
             "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
             "SignedHeaders=host;x-amz-date, "
             "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

BOOST_AUTO_TEST_CASE(the_suite_case_get_vanilla_query_order_key_case_signs_as_published) {
  sigv4_request r;
  r.method = "GET";
  r.path = "/";
  r.query = {{"Param2", "value2"}, {"Param1", "value1"}};
  r.add_content_sha256_header = false;
  auto s = sign_suite_case(r);

  BOOST_TEST(s.canonical_request ==
             "GET\n"
             "/\n"
             "Param1=value1&Param2=value2\n"
             "host:example.amazonaws.com\n"
             "x-amz-date:20150830T123600Z\n"
             "\n"
             "host;x-amz-date\n"
             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  BOOST_TEST(s.string_to_sign ==
             "AWS4-HMAC-SHA256\n"
             "20150830T123600Z\n"
             "20150830/us-east-1/service/aws4_request\n"
             "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0");
  BOOST_TEST(s.signature == "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
  BOOST_TEST(s.authorization ==
             "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
             "SignedHeaders=host;x-amz-date, "
             "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

BOOST_AUTO_TEST_CASE(the_suite_case_get_vanilla_query_unreserved_keeps_unreserved_characters) {
  const std::string unreserved =
      "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  sigv4_request r;
  r.method = "GET";
  r.path = "/";
  r.query = {{unreserved, unreserved}};
  r.add_content_sha256_header = false;
  auto s = sign_suite_case(r);

  BOOST_TEST(s.canonical_request ==
             "GET\n"
             "/\n"
             "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz="
             "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\n"
             "host:example.amazonaws.com\n"
             "x-amz-date:20150830T123600Z\n"
             "\n"
             "host;x-amz-date\n"
             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  BOOST_TEST(s.string_to_sign ==
             "AWS4-HMAC-SHA256\n"
             "20150830T123600Z\n"
             "20150830/us-east-1/service/aws4_request\n"
             "c30d4703d9f799439be92736156d47ccfb2d879ddf56f5befa6d1d6aab979177");
  BOOST_TEST(s.signature == "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197");
}

BOOST_AUTO_TEST_CASE(the_suite_case_get_header_value_trim_trims_and_collapses_spaces) {
  sigv4_request r;
  r.method = "GET";
  r.path = "/";
  // As request.txt sends them: "My-Header1: value1" and "My-Header2: "a   b   c"".
  r.headers = {{"My-Header1", " value1"}, {"My-Header2", " \"a   b   c\""}};
  r.add_content_sha256_header = false;
  auto s = sign_suite_case(r);

  BOOST_TEST(s.canonical_request ==
             "GET\n"
             "/\n"
             "\n"
             "host:example.amazonaws.com\n"
             "my-header1:value1\n"
             "my-header2:\"a b c\"\n"
             "x-amz-date:20150830T123600Z\n"
             "\n"
             "host;my-header1;my-header2;x-amz-date\n"
             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  BOOST_TEST(s.string_to_sign ==
             "AWS4-HMAC-SHA256\n"
             "20150830T123600Z\n"
             "20150830/us-east-1/service/aws4_request\n"
             "a726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7");
  BOOST_TEST(s.signature == "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736");
  BOOST_TEST(s.authorization ==
             "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
             "SignedHeaders=host;my-header1;my-header2;x-amz-date, "
             "Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736");
}

BOOST_AUTO_TEST_CASE(the_suite_case_get_utf8_signs_a_percent_encoded_utf8_path) {
  sigv4_request r;
  r.method = "GET";
  r.path = "/" + uri_encode("\xE1\x88\xB4", false); // U+1234, the path of request.txt
  r.add_content_sha256_header = false;
  auto s = sign_suite_case(r);

  BOOST_TEST(s.canonical_request ==
             "GET\n"
             "/%E1%88%B4\n"
             "\n"
             "host:example.amazonaws.com\n"
             "x-amz-date:20150830T123600Z\n"
             "\n"
             "host;x-amz-date\n"
             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  BOOST_TEST(s.string_to_sign ==
             "AWS4-HMAC-SHA256\n"
             "20150830T123600Z\n"
             "20150830/us-east-1/service/aws4_request\n"
             "2a0a97d02205e45ce2e994789806b19270cfbbb0921b278ccf58f5249ac42102");
  BOOST_TEST(s.signature == "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85");
}

BOOST_AUTO_TEST_CASE(the_suite_case_post_vanilla_query_signs_as_published) {
  sigv4_request r;
  r.method = "POST";
  r.path = "/";
  r.query = {{"Param1", "value1"}};
  r.add_content_sha256_header = false;
  auto s = sign_suite_case(r);

  BOOST_TEST(s.canonical_request ==
             "POST\n"
             "/\n"
             "Param1=value1\n"
             "host:example.amazonaws.com\n"
             "x-amz-date:20150830T123600Z\n"
             "\n"
             "host;x-amz-date\n"
             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  BOOST_TEST(s.string_to_sign ==
             "AWS4-HMAC-SHA256\n"
             "20150830T123600Z\n"
             "20150830/us-east-1/service/aws4_request\n"
             "9d659678c1756bb3113e2ce898845a0a79dbbc57b740555917687f1b3340fbbd");
  BOOST_TEST(s.signature == "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11");
}

BOOST_AUTO_TEST_CASE(the_suite_case_post_x_www_form_urlencoded_signs_its_body_hash) {
  // This edition of the case signs the body (context.json: "sign_body": true), so it also
  // carries x-amz-content-sha256, as every S3 request does.
  BOOST_TEST(sha256_hex("Param1=value1") ==
             "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
  sigv4_request r;
  r.method = "POST";
  r.path = "/";
  r.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Content-Length", "13"}};
  r.payload_sha256 = "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e";
  auto s = sign_suite_case(r);

  BOOST_TEST(
      s.canonical_request ==
      "POST\n"
      "/\n"
      "\n"
      "content-length:13\n"
      "content-type:application/x-www-form-urlencoded\n"
      "host:example.amazonaws.com\n"
      "x-amz-content-sha256:9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e\n"
      "x-amz-date:20150830T123600Z\n"
      "\n"
      "content-length;content-type;host;x-amz-content-sha256;x-amz-date\n"
      "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
  BOOST_TEST(s.string_to_sign ==
             "AWS4-HMAC-SHA256\n"
             "20150830T123600Z\n"
             "20150830/us-east-1/service/aws4_request\n"
             "b1edd1d03544c25390e32085d55b57acc9a3961bb59415ff86c45c3d89d16cfb");
  BOOST_TEST(s.signature == "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b");
  BOOST_TEST(s.authorization ==
             "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
             "SignedHeaders=content-length;content-type;host;x-amz-content-sha256;x-amz-date, "
             "Signature=d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b");
}

// --- Encoding and canonical form --------------------------------------------------------

BOOST_AUTO_TEST_CASE(uri_encode_keeps_only_unreserved_characters_and_uses_uppercase_hex) {
  BOOST_TEST(uri_encode("a b", true) == "a%20b");
  BOOST_TEST(uri_encode("a+b", true) == "a%2Bb");
  BOOST_TEST(uri_encode("~user", true) == "~user");
  BOOST_TEST(uri_encode("A-Z_a.z~09", true) == "A-Z_a.z~09");
  BOOST_TEST(uri_encode("100%*=&?#:@", true) == "100%25%2A%3D%26%3F%23%3A%40");
  BOOST_TEST(uri_encode("caf\xC3\xA9", true) == "caf%C3%A9"); // "café" in UTF-8
  BOOST_TEST(uri_encode("", true) == "");
}

BOOST_AUTO_TEST_CASE(uri_encode_keeps_slashes_only_when_asked) {
  BOOST_TEST(uri_encode("dir/sub dir/file+1", false) == "dir/sub%20dir/file%2B1");
  BOOST_TEST(uri_encode("dir/sub dir/file+1", true) == "dir%2Fsub%20dir%2Ffile%2B1");
}

BOOST_AUTO_TEST_CASE(the_query_is_sorted_by_encoded_name_then_value) {
  sigv4_request r;
  r.method = "GET";
  r.path = "/";
  r.query = {{"uploadId", "x y"}, {"partNumber", "10"}, {"k", "b"}, {"k", "a"},
             {"\xC3\xA9", "2"},   {"~", "1"},           {"b", "1"}, {"B", "1"}};
  auto s = sign_s3_example(r);
  // "é" encodes to %C3%A9, and '%' sorts before every letter and '~': the order is that of
  // the encoded bytes, not of the raw ones. Uppercase sorts before lowercase.
  BOOST_TEST(s.query_string == "%C3%A9=2&B=1&b=1&k=a&k=b&partNumber=10&uploadId=x%20y&~=1");
  BOOST_TEST(s.canonical_request.find("\n" + s.query_string + "\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_valueless_parameter_is_signed_and_written_with_an_equals_sign) {
  sigv4_request r;
  r.method = "POST";
  r.path = "/bucket/key";
  r.query = {{"uploads", ""}};
  auto s = sign_s3_example(r);
  BOOST_TEST(s.query_string == "uploads=");
  BOOST_TEST(s.canonical_request.starts_with("POST\n/bucket/key\nuploads=\n"));
}

BOOST_AUTO_TEST_CASE(an_empty_path_is_signed_as_the_root) {
  sigv4_request r;
  r.method = "GET";
  auto s = sign_s3_example(r);
  BOOST_TEST(s.canonical_request.starts_with("GET\n/\n\n"));
}

BOOST_AUTO_TEST_CASE(the_path_is_signed_verbatim_without_a_second_encoding) {
  sigv4_request r;
  r.method = "PUT";
  r.path = "/bucket/my%20key%2Bv1";
  auto s = sign_s3_example(r);
  BOOST_TEST(s.canonical_request.starts_with("PUT\n/bucket/my%20key%2Bv1\n"));
}

BOOST_AUTO_TEST_CASE(header_names_are_lowercased_and_values_trimmed_and_collapsed) {
  sigv4_request r;
  r.method = "PUT";
  r.path = "/k";
  r.headers = {{"Content-Type", "  text/plain  "}, {"X-Amz-Meta-Note", "a \t  b"}};
  auto s = sign_s3_example(r);
  BOOST_TEST(
      s.canonical_request ==
      "PUT\n"
      "/k\n"
      "\n"
      "content-type:text/plain\n"
      "host:examplebucket.s3.amazonaws.com\n"
      "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
      "x-amz-date:20130524T000000Z\n"
      "x-amz-meta-note:a b\n"
      "\n"
      "content-type;host;x-amz-content-sha256;x-amz-date;x-amz-meta-note\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

BOOST_AUTO_TEST_CASE(a_repeated_header_is_signed_once_with_its_values_comma_joined_in_order) {
  sigv4_request r;
  r.method = "GET";
  r.path = "/";
  r.headers = {{"X-Amz-Meta-A", "2"}, {"x-amz-meta-a", "1"}};
  auto s = sign_s3_example(r);
  BOOST_TEST(s.canonical_request.find("\nx-amz-meta-a:2,1\n") != std::string::npos);
  BOOST_TEST(s.canonical_request.find("x-amz-date;x-amz-meta-a\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(headers_the_signer_owns_are_not_taken_from_the_caller) {
  sigv4_request r;
  r.method = "GET";
  r.path = "/";
  r.headers = {{"Host", "elsewhere.example"}, {"X-Amz-Date", "19990101T000000Z"}};
  auto s = sign_s3_example(r);
  BOOST_TEST(s.canonical_request.find("elsewhere") == std::string::npos);
  BOOST_TEST(s.canonical_request.find("1999") == std::string::npos);
  BOOST_TEST(s.canonical_request.find("\nhost:examplebucket.s3.amazonaws.com\n") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_host_with_a_port_is_signed_with_the_port) {
  sigv4_request r;
  r.method = "GET";
  r.host = "127.0.0.1:4568";
  r.path = "/bucket";
  auto s = sign_sigv4(r, s3_example_credentials, "us-east-1", "s3", s3_example_date);
  BOOST_TEST(s.canonical_request.find("\nhost:127.0.0.1:4568\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_headers_to_send_are_the_date_the_payload_hash_and_the_authorization) {
  sigv4_request r;
  r.method = "PUT";
  r.path = "/k";
  r.payload_sha256 = "UNSIGNED-PAYLOAD";
  auto s = sign_s3_example(r);
  BOOST_REQUIRE_EQUAL(s.headers_to_send.size(), 3u);
  BOOST_TEST(s.headers_to_send[0].first == "x-amz-date");
  BOOST_TEST(s.headers_to_send[0].second == "20130524T000000Z");
  BOOST_TEST(s.headers_to_send[1].first == "x-amz-content-sha256");
  BOOST_TEST(s.headers_to_send[1].second == "UNSIGNED-PAYLOAD");
  BOOST_TEST(s.headers_to_send[2].first == "Authorization");
  BOOST_TEST(s.headers_to_send[2].second == s.authorization);
  BOOST_TEST(s.canonical_request.ends_with("\nUNSIGNED-PAYLOAD"));
  BOOST_TEST(s.canonical_request.find("\nx-amz-content-sha256:UNSIGNED-PAYLOAD\n") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_session_token_is_sent_and_signed_as_x_amz_security_token) {
  auto credentials = s3_example_credentials;
  credentials.session_token = "token/with+chars=";
  sigv4_request r;
  r.method = "GET";
  r.host = s3_example_host;
  r.path = "/";
  auto s = sign_sigv4(r, credentials, "us-east-1", "s3", s3_example_date);
  BOOST_TEST(value_of(s, "x-amz-security-token") == "token/with+chars=");
  BOOST_TEST(s.canonical_request.find("\nx-amz-security-token:token/with+chars=\n") !=
             std::string::npos);
  BOOST_TEST(s.authorization.find("SignedHeaders=host;x-amz-content-sha256;x-amz-date;"
                                  "x-amz-security-token,") != std::string::npos);
  // Without a token the header is neither sent nor signed.
  auto plain = sign_s3_example(r);
  BOOST_TEST(value_of(plain, "x-amz-security-token") == "<absent>");
  BOOST_TEST(plain.signature != s.signature);
}

BOOST_AUTO_TEST_CASE(without_the_content_sha256_header_it_is_neither_sent_nor_signed) {
  sigv4_request r;
  r.method = "GET";
  r.path = "/";
  r.add_content_sha256_header = false;
  auto s = sign_s3_example(r);
  BOOST_TEST(value_of(s, "x-amz-content-sha256") == "<absent>");
  BOOST_TEST(s.canonical_request.find("x-amz-content-sha256") == std::string::npos);
}

// --- Hashing and dates ----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(sha256_hex_matches_the_published_digests) {
  BOOST_TEST(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  BOOST_TEST(sha256_hex("") == empty_payload_sha256);
  // FIPS 180-2, appendix B.1.
  BOOST_TEST(sha256_hex("abc") ==
             "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

BOOST_AUTO_TEST_CASE(sha256_stream_gives_the_same_digest_however_the_data_is_split) {
  sha256_stream empty;
  BOOST_TEST(empty.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

  sha256_stream abc;
  abc.update("a");
  abc.update("");
  abc.update("bc");
  BOOST_TEST(abc.hex() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

  // FIPS 180-2, appendix B.3: one million 'a', fed in pieces that straddle the 64-byte blocks.
  const std::string piece(977, 'a');
  sha256_stream million;
  std::size_t fed = 0;
  while (fed < 1'000'000) {
    auto n = std::min(piece.size(), 1'000'000 - fed);
    million.update(piece.data(), n);
    fed += n;
  }
  BOOST_TEST(million.hex() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  BOOST_TEST(million.hex() == sha256_hex(std::string(1'000'000, 'a')));
}

BOOST_AUTO_TEST_CASE(sha256_stream_can_be_read_midway_and_fed_further) {
  sha256_stream s;
  s.update("Welcome to ");
  BOOST_TEST(s.hex() == sha256_hex("Welcome to "));
  s.update("Amazon S3.");
  BOOST_TEST(s.hex() == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");

  sha256_stream moved = std::move(s);
  moved.update("");
  BOOST_TEST(moved.hex() == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
}

BOOST_AUTO_TEST_CASE(amz_date_formats_utc_as_yyyymmdd_t_hhmmss_z) {
  BOOST_TEST(amz_date(system_clock::time_point{}) == "19700101T000000Z");
  BOOST_TEST(amz_date(sys_days{2013y / May / 24}) == "20130524T000000Z");
  BOOST_TEST(amz_date(sys_days{2015y / August / 30} + 12h + 36min) == "20150830T123600Z");
  BOOST_TEST(amz_date(sys_days{2024y / February / 29} + 23h + 59min + 59s) == "20240229T235959Z");
  // Sub-second parts are dropped, never rounded up into the next second.
  BOOST_TEST(amz_date(sys_days{2024y / December / 31} + 23h + 59min + 59s + 999ms) ==
             "20241231T235959Z");
}

BOOST_AUTO_TEST_SUITE_END()
