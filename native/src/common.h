// Shared declarations of the medseg native layer: the opaque tensor handle, argument decoding and
// the op registry. The layer is deliberately thin: every op is a line or two over ATen; all policy
// (modules, training, memory scopes) lives in TypeScript.
#pragma once

#include <napi.h>

#include "guard.h"

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
  // The handle behind v, or nullptr when v is not one (any other value, an object that only
  // inherits TensorHandle.prototype). Never throws for a plain value.
  static TensorHandle* Find(Napi::Env env, const Napi::Value& v);
  static bool Is(Napi::Env env, const Napi::Value& v) { return Find(env, v) != nullptr; }

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
  // The tensor, or an error when it was disposed or never held one (new TensorHandle() from JS).
  const at::Tensor& live() const;
  void Release();
  size_t accounted_ = 0;
};

// Per-environment state (the addon can load in worker threads, each with its own constructor).
struct AddonData {
  Napi::FunctionReference tensorCtor;
};

at::ScalarType parseDtype(const std::string& s);
std::string dtypeName(at::ScalarType t);
// "cpu", "cuda" or "cuda:N"; anything else is refused (other backends are not built or tested).
at::Device parseDevice(const std::string& s);
std::string describe(const at::Tensor& t);  // "float32[2,1,64,64,64]"

// Decodes the JS arguments of one op call. Index 0 is the first argument after the op name.
// Every reader checks the JS value before converting it (no NaN or out-of-range double is ever
// cast to an integer) and throws ArgError naming the argument: a missing argument or a wrong kind
// of value is a TypeError, a number outside what the reader takes a RangeError.
class Args {
 public:
  // Integers travel as JS numbers: only those in ±(2^53 - 1) are exact, so only those are accepted.
  static constexpr int64_t kMaxSafeInt = 9007199254740991;

  Args(const Napi::CallbackInfo& info, size_t offset) : info_(info), off_(offset) {}
  Napi::Env env() const { return info_.Env(); }
  size_t size() const { return info_.Length() > off_ ? info_.Length() - off_ : 0; }
  Napi::Value raw(size_t i) const { return info_[off_ + i]; }
  bool has(size_t i) const { return i < size() && !raw(i).IsUndefined() && !raw(i).IsNull(); }
  bool isTensor(size_t i) const;

  // A live tensor (not disposed, not an empty handle).
  const at::Tensor& T(size_t i) const;
  c10::optional<at::Tensor> OT(size_t i) const;
  std::vector<at::Tensor> Ts(size_t i) const;
  // An integer in [lo, hi] (default: any safe integer).
  int64_t I(size_t i) const { return I(i, -kMaxSafeInt, kMaxSafeInt); }
  int64_t I(size_t i, int64_t lo, int64_t hi) const;
  c10::optional<int64_t> OI(size_t i) const;
  // A finite number.
  double D(size_t i) const;
  // Any number, NaN and ±Infinity included (fill values).
  double Dx(size_t i) const;
  bool B(size_t i) const;
  std::string S(size_t i) const;
  std::vector<int64_t> Ints(size_t i) const;
  at::ScalarType Dtype(size_t i) const { return parseDtype(S(i)); }
  // TensorOptions from (dtype, device) strings at i, i+1 (either may be omitted).
  at::TensorOptions Opts(size_t i) const;
  // A number or a boolean: scalar operands of elementwise ops. NaN and ±Infinity are values here.
  at::Scalar Sc(size_t i) const;

 private:
  double number(size_t i, const char* want) const;
  [[noreturn]] void missingOrWrongType(size_t i, const char* want) const;
  [[noreturn]] void outOfRange(size_t i, const std::string& want) const;
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
