#include "runtime/input_listing.hpp"

namespace haul {

namespace {

class digest_sink final : public input_sink {
 public:
  expected<void> add(std::string_view input) override {
    digest.add(input);
    return {};
  }
  input_digest digest;
};

class store_sink final : public input_sink {
 public:
  static constexpr std::size_t batch_size = 4096;

  store_sink(storage::store& store, const std::string& id)
      : store_(store)
      , id_(id) {}

  expected<void> add(std::string_view input) override {
    batch_.put_input(id_, digest_.count(), input);
    digest_.add(input);
    if (batch_.size() < batch_size)
      return {};
    return store_.commit(batch_, false);
  }

  expected<void> finish() { return store_.commit(batch_, true); }
  const input_digest& digest() const { return digest_; }

 private:
  storage::store& store_;
  const std::string& id_;
  storage::store_batch batch_;
  input_digest digest_;
};

} // namespace

expected<input_digest> digest_inputs(const list_function& list, const job_params& params) {
  digest_sink sink;
  if (auto ok = list(params, sink); !ok)
    return ok.error();
  return sink.digest;
}

expected<input_digest> store_inputs(const list_function& list, const job_params& params,
                                    storage::store& store, const std::string& id) {
  storage::store_batch clear;
  clear.delete_inputs(id);
  if (auto ok = store.commit(clear, false); !ok)
    return ok.error();
  store_sink sink(store, id);
  auto listed = list(params, sink);
  if (listed)
    listed = sink.finish();
  if (!listed) {
    clear.delete_inputs(id);
    (void)store.commit(clear, false); // best effort: a later listing replaces them anyway
    return listed.error();
  }
  return sink.digest();
}

} // namespace haul
