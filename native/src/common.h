// Shared declarations of the medseg native layer: the opaque tensor handle, argument decoding and
// the op registry. The layer is deliberately thin: every op is a line or two over ATen; all policy
// (modules, training, memory scopes) lives in TypeScript.
#pragma once

#include <napi.h>

#include <ATen/ATen.h>
#include <torch/csrc/api/include/torch/version.h>

#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace medseg {

// A JS object owning one at::Tensor. dispose() frees it at once; the GC finalizer is the safety net.
class TensorHandle : public Napi::ObjectWrap<TensorHandle> {
 public:
  static Napi::Function Define(Napi::Env env);
  static Napi::Object Wrap(Napi::Env env, at::Tensor t);
  static bool Is(Napi::Env env, const Napi::Value& v);
  static TensorHandle* Unwrap(const Napi::Value& v) { return Napi::ObjectWrap<TensorHandle>::Unwrap(v.As<Napi::Object>()); }

  explicit TensorHandle(const Napi::CallbackInfo& info);
  ~TensorHandle() override;

  at::Tensor tensor;
  bool disposed = false;

 private:
  Napi::Value Shape(const Napi::CallbackInfo& info);
  Napi::Value Dtype(const Napi::CallbackInfo& info);
  Napi::Value DeviceName(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  Napi::Value IsDisposed(const Napi::CallbackInfo& info);
  Napi::Value ToArray(const Napi::CallbackInfo& info);
  Napi::Value DataView(const Napi::CallbackInfo& info);
  Napi::Value Item(const Napi::CallbackInfo& info);
  void Release();
  size_t accounted_ = 0;
};

// Per-environment state (the addon can load in worker threads, each with its own constructor).
struct AddonData {
  Napi::FunctionReference tensorCtor;
};

at::ScalarType parseDtype(const std::string& s);
std::string dtypeName(at::ScalarType t);
at::Device parseDevice(const std::string& s);
std::string describe(const at::Tensor& t);  // "float32[2,1,64,64,64]"

// Decodes the JS arguments of one op call. Index 0 is the first argument after the op name.
class Args {
 public:
  Args(const Napi::CallbackInfo& info, size_t offset) : info_(info), off_(offset) {}
  Napi::Env env() const { return info_.Env(); }
  size_t size() const { return info_.Length() - off_; }
  Napi::Value raw(size_t i) const { return info_[off_ + i]; }
  bool has(size_t i) const { return i < size() && !raw(i).IsUndefined() && !raw(i).IsNull(); }
  bool isTensor(size_t i) const;

  const at::Tensor& T(size_t i) const;
  c10::optional<at::Tensor> OT(size_t i) const;
  std::vector<at::Tensor> Ts(size_t i) const;
  int64_t I(size_t i) const;
  c10::optional<int64_t> OI(size_t i) const;
  double D(size_t i) const;
  c10::optional<double> OD(size_t i) const;
  bool B(size_t i) const;
  std::string S(size_t i) const;
  std::vector<int64_t> Ints(size_t i) const;
  std::vector<double> Doubles(size_t i) const;
  at::ScalarType Dtype(size_t i) const { return parseDtype(S(i)); }
  // TensorOptions from (dtype, device) strings at i, i+1 (either may be omitted).
  at::TensorOptions Opts(size_t i) const;
  // A number or a tensor: scalar operands of elementwise ops.
  at::Scalar Sc(size_t i) const;

 private:
  [[noreturn]] void bad(size_t i, const char* want) const;
  const Napi::CallbackInfo& info_;
  size_t off_;
};

using OpFn = std::function<Napi::Value(Args&)>;
using Registry = std::unordered_map<std::string, OpFn>;

// Result conversion to JS.
Napi::Value toJs(Napi::Env env, const at::Tensor& t);
Napi::Value toJs(Napi::Env env, const std::vector<at::Tensor>& ts);
Napi::Value toJs(Napi::Env env, const std::tuple<at::Tensor, at::Tensor>& ts);
Napi::Value toJs(Napi::Env env, const std::tuple<at::Tensor, at::Tensor, at::Tensor>& ts);
inline Napi::Value toJs(Napi::Env env, double v) { return Napi::Number::New(env, v); }
inline Napi::Value toJs(Napi::Env env, int64_t v) { return Napi::Number::New(env, static_cast<double>(v)); }
inline Napi::Value toJs(Napi::Env env, bool v) { return Napi::Boolean::New(env, v); }
inline Napi::Value toJs(Napi::Env env, const std::string& v) { return Napi::String::New(env, v); }

void registerBasicOps(Registry& r);
void registerNnOps(Registry& r);
void registerConvOps(Registry& r);
void registerFusedOps(Registry& r);
void registerDeviceOps(Registry& r);

// The caching CPU allocator (allocator.cc).
void installCachingAllocator();
size_t cachedAllocatorBytes();
size_t allocatorMaps();
void emptyAllocatorCache();
void setAllocatorCacheLimit(size_t bytes);

// Lower-precision compute for convolutions and matmuls (our own autocast): kFloat means off.
at::ScalarType autocastDtype();
void setAutocastDtype(at::ScalarType t);
// Casts a float32 tensor to the autocast dtype when autocast is on; others pass through.
at::Tensor autocastArg(const at::Tensor& t);

}  // namespace medseg

// Registers op NAME whose body is an expression over `a` (the Args) giving a convertible result.
#define MEDSEG_OP(reg, name, expr) \
  reg[name] = [](::medseg::Args& a) -> Napi::Value { return ::medseg::toJs(a.env(), (expr)); }
// Registers an op run for its side effect (in-place ops); returns undefined.
#define MEDSEG_OPV(reg, name, stmt)                         \
  reg[name] = [](::medseg::Args& a) -> Napi::Value {        \
    stmt;                                                   \
    return a.env().Undefined();                             \
  }
