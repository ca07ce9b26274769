#include "runtime/job_identity.hpp"

#include <cstdint>
#include <cstdio>

namespace haul {

namespace {

class fnv1a {
 public:
  void add(std::string_view s) {
    for (unsigned char c : s) {
      h_ ^= c;
      h_ *= 0x100000001b3ULL;
    }
    // A separator byte that cannot be confused with content boundaries: length-prefixing
    // would be stronger, but a 0xff after each field is enough since fields are text.
    h_ ^= 0xff;
    h_ *= 0x100000001b3ULL;
  }
  std::uint64_t value() const { return h_; }

 private:
  std::uint64_t h_ = 0xcbf29ce484222325ULL;
};

std::string hex64(std::uint64_t v) {
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(v));
  return hex;
}

} // namespace

std::string job_id_for(const job_spec& spec, std::string_view inputs_digest) {
  fnv1a h;
  h.add(spec.kind);
  for (const auto& [k, v] : spec.params) {
    h.add(k);
    h.add(v);
  }
  if (spec.fingerprint) {
    h.add("fingerprint");
    h.add(*spec.fingerprint);
  } else {
    h.add(std::to_string(spec.tasks));
    if (!inputs_digest.empty()) {
      h.add("inputs");
      h.add(inputs_digest);
    }
  }
  return spec.name + "-" + hex64(h.value()).substr(0, 12);
}

void input_digest::add(std::string_view input) {
  // Length first, so that no two different lists hash the same bytes.
  for (auto n = input.size();; n >>= 8) {
    hash_ = (hash_ ^ (n & 0xff)) * 0x100000001b3ULL;
    if (n <= 0xff)
      break;
  }
  for (unsigned char c : input)
    hash_ = (hash_ ^ c) * 0x100000001b3ULL;
  ++count_;
}

std::string input_digest::hex() const {
  return hex64(hash_) + "/" + std::to_string(count_);
}

std::string validate_job_name(const std::string& name) {
  if (name.empty())
    return "a job name must not be empty";
  if (name.size() > 100)
    return "a job name must be at most 100 characters";
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok)
      return "a job name may use letters, digits, '-', '_' and '.' only, found '" +
             std::string(1, c) + "'";
  }
  return {};
}

} // namespace haul
