#include <cstdlib>
#include <cstring>
#include <new>

#include <tessera/comm/agree.hpp>
#include <tessera/comm/comm.hpp>

namespace tessera {

namespace {

std::size_t type_size(DataType type) {
  switch (type) {
    case DataType::int32:
    case DataType::float32: return 4;
    case DataType::int64:
    case DataType::uint64:
    case DataType::float64: return 8;
    case DataType::byte: return 1;
  }
  return 1;
}

class LocalCounter final : public detail::CounterBackend {
 public:
  explicit LocalCounter(std::int64_t initial) : value_(initial) {}
  std::int64_t fetch_add(std::int64_t delta) override {
    const std::int64_t old = value_;
    value_ += delta;
    return old;
  }

 private:
  std::int64_t value_;
};

// One process: every collective is a copy.
class SelfBackend final : public detail::CommBackend {
 public:
  const char* name() const override { return "self"; }
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void barrier() const override {}
  void allreduce(const void* send, void* recv, std::size_t count, DataType type,
                 ReduceOp) const override {
    if (send != recv) std::memcpy(recv, send, count * type_size(type));
  }
  void bcast(void*, std::size_t, int) const override {}
  void allgather(const void* send, std::size_t bytes, void* recv) const override {
    if (bytes) std::memcpy(recv, send, bytes);
  }
  void allgatherv(const void* send, std::size_t bytes, void* recv,
                  const std::vector<std::size_t>&) const override {
    if (bytes) std::memcpy(recv, send, bytes);
  }
  std::shared_ptr<CommBackend> split(int, int) const override {
    return std::make_shared<SelfBackend>();
  }
  std::unique_ptr<detail::CounterBackend> make_counter(std::int64_t initial) const override {
    return std::make_unique<LocalCounter>(initial);
  }
  [[noreturn]] void abort(int code) const override { std::_Exit(code); }
};

}  // namespace

std::shared_ptr<detail::CommBackend> detail::make_self_backend() {
  return std::make_shared<SelfBackend>();
}

Comm::Comm(std::shared_ptr<detail::CommBackend> backend) : backend_(std::move(backend)) {
  TESSERA_ASSERT(backend_ != nullptr);
}

void Comm::abort(int code) const {
  backend_->abort(code);
  std::_Exit(code);  // backends do not return; this keeps [[noreturn]] honest
}

void Comm::check_root(int root) const {
  if (root < 0 || root >= size())
    throw InvalidArgument("tessera::Comm: root " + std::to_string(root) + " is not a rank of a " +
                          std::to_string(size()) + "-rank communicator");
}

void Comm::check_contiguous(bool contiguous, const char* what) {
  if (!contiguous)
    throw InvalidArgument(std::string("tessera::Comm::") + what +
                          ": the View must be contiguous (no strided subviews)");
}

static ValueLoc pick_loc(const std::vector<ValueLoc>& all, bool smallest) {
  ValueLoc best = all.front();
  for (const ValueLoc& v : all) {
    const bool better = smallest ? v.value < best.value : v.value > best.value;
    if (better || (v.value == best.value && v.index < best.index)) best = v;
  }
  return best;
}

ValueLoc Comm::minloc(ValueLoc local) const { return pick_loc(allgather(local), true); }
ValueLoc Comm::maxloc(ValueLoc local) const { return pick_loc(allgather(local), false); }

void Comm::bcast(std::string& value, int root) const {
  check_root(root);
  std::uint64_t length = value.size();
  bcast(length, root);
  value.resize(length);
  if (length) backend_->bcast(value.data(), length, root);
}

namespace detail {

LocalFailure capture_current_exception() {
  try {
    throw;
  } catch (const Error& e) {
    return {e.kind(), e.what()};
  } catch (const std::exception& e) {
    return {ErrorKind::internal, one_line_message(e)};
  } catch (...) {
    return {ErrorKind::internal, "unknown exception"};
  }
}

void settle(const Comm& comm, const std::optional<LocalFailure>& failure) {
  const int mine = failure ? comm.rank() : comm.size();
  const int first = comm.allreduce(mine, ReduceOp::min);
  if (first == comm.size()) return;
  int kind = failure ? static_cast<int>(failure->kind) : 0;
  std::string message = failure ? failure->message : std::string();
  comm.bcast(kind, first);
  comm.bcast(message, first);
  throw_error(static_cast<ErrorKind>(kind), message, /*agreed=*/true);
}

}  // namespace detail

void agree_check(const Comm& comm, bool ok, const std::string& message, ErrorKind kind) {
  std::optional<detail::LocalFailure> failure;
  if (!ok) failure = detail::LocalFailure{kind, message};
  detail::settle(comm, failure);
}

}  // namespace tessera
