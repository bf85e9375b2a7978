// The tensor handle, argument decoding and result conversion.
#include "common.h"

#include <atomic>
#include <cmath>
#include <cstring>
#include <regex>
#include <sstream>

namespace medseg {

namespace {
// Bytes released by finalizers since the last report to V8 (finalizers may not call into the VM).
std::atomic<int64_t> g_pendingRelease{0};

size_t storageBytes(const at::Tensor& t) {
  return t.defined() ? static_cast<size_t>(t.numel()) * t.element_size() : 0;
}
}  // namespace

at::ScalarType parseDtype(const std::string& s) {
  static const std::unordered_map<std::string, at::ScalarType> m = {
      {"float32", at::kFloat}, {"float64", at::kDouble}, {"float16", at::kHalf}, {"bfloat16", at::kBFloat16},
      {"int64", at::kLong},    {"int32", at::kInt},      {"int16", at::kShort},  {"int8", at::kChar},
      {"uint8", at::kByte},    {"bool", at::kBool}};
  auto it = m.find(s);
  if (it == m.end()) throw std::invalid_argument("unknown dtype '" + s + "'");
  return it->second;
}

std::string dtypeName(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return "float32";
    case at::kDouble: return "float64";
    case at::kHalf: return "float16";
    case at::kBFloat16: return "bfloat16";
    case at::kLong: return "int64";
    case at::kInt: return "int32";
    case at::kShort: return "int16";
    case at::kChar: return "int8";
    case at::kByte: return "uint8";
    case at::kBool: return "bool";
    default: return std::string(c10::toString(t));
  }
}

at::Device parseDevice(const std::string& s) {
  static const std::regex ok("cpu|cuda(:[0-9]{1,2})?");
  if (!std::regex_match(s, ok)) throw ArgError(ErrorKind::Range, "unknown device '" + s + "' (cpu, cuda or cuda:N)");
  return at::Device(s);
}

std::string describe(const at::Tensor& t) {
  if (!t.defined()) return "undefined";
  std::ostringstream o;
  o << dtypeName(t.scalar_type()) << "[";
  for (int64_t i = 0; i < t.dim(); ++i) o << (i ? "," : "") << t.size(i);
  o << "]";
  if (!t.is_cpu()) o << "@" << t.device().str();
  return o.str();
}

// ---------------------------------------------------------------------------------------------
namespace {
// A method defined through the guard: `this` is checked (a method called on something other than
// a tensor handle is an error, not a crash) and every failure names the method.
void defineMethod(Napi::Env env, Napi::Object proto, const char* name,
                  Napi::Value (TensorHandle::*method)(const Napi::CallbackInfo&)) {
  defineGuarded(
      env, proto, name,
      [method](const Napi::CallbackInfo& info) -> Napi::Value {
        TensorHandle* h = TensorHandle::Find(info.Env(), info.This());
        if (!h) throw ArgError(ErrorKind::Type, "called on something that is not a tensor handle");
        return (h->*method)(info);
      },
      0, true);
}
}  // namespace

Napi::Function TensorHandle::Define(Napi::Env env) {
  Napi::Function ctor = DefineClass(env, "TensorHandle", {});
  Napi::Object proto = ctor.Get("prototype").As<Napi::Object>();
  defineMethod(env, proto, "shape", &TensorHandle::Shape);
  defineMethod(env, proto, "dtype", &TensorHandle::Dtype);
  defineMethod(env, proto, "device", &TensorHandle::DeviceName);
  defineMethod(env, proto, "dispose", &TensorHandle::Dispose);
  defineMethod(env, proto, "isDisposed", &TensorHandle::IsDisposed);
  defineMethod(env, proto, "toArray", &TensorHandle::ToArray);
  defineMethod(env, proto, "dataView", &TensorHandle::DataView);
  defineMethod(env, proto, "item", &TensorHandle::Item);
  return ctor;
}

TensorHandle::TensorHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TensorHandle>(info) {}

TensorHandle::~TensorHandle() {
  if (accounted_) g_pendingRelease += static_cast<int64_t>(accounted_);
}

void TensorHandle::Release() {
  if (accounted_) g_pendingRelease += static_cast<int64_t>(accounted_);
  accounted_ = 0;
  tensor = at::Tensor();
  disposed = true;
}

Napi::Object TensorHandle::Wrap(Napi::Env env, at::Tensor t) {
  auto* data = env.GetInstanceData<AddonData>();
  Napi::Object obj = data->tensorCtor.New({});
  TensorHandle* h = Unwrap(obj);
  h->accounted_ = storageBytes(t);
  h->tensor = std::move(t);
  // Tell V8 how much memory hides behind its small handle objects, so that forgotten handles are
  // collected under memory pressure (the net under explicit scopes).
  int64_t delta = static_cast<int64_t>(h->accounted_) - g_pendingRelease.exchange(0);
  if (delta != 0) Napi::MemoryManagement::AdjustExternalMemory(env, delta);
  return obj;
}

TensorHandle* TensorHandle::Find(Napi::Env env, const Napi::Value& v) {
  if (!v.IsObject()) return nullptr;
  auto* data = env.GetInstanceData<AddonData>();
  if (!v.As<Napi::Object>().InstanceOf(data->tensorCtor.Value())) return nullptr;
  // instanceof only looks at the prototype chain: Object.create(TensorHandle.prototype) passes it
  // with no C++ object behind it.
  void* p = nullptr;
  if (napi_unwrap(env, v, &p) != napi_ok) return nullptr;
  return static_cast<TensorHandle*>(p);
}

const at::Tensor& TensorHandle::live() const {
  if (disposed) throw ArgError(ErrorKind::Error, "tensor used after dispose()");
  if (!tensor.defined()) throw ArgError(ErrorKind::Error, "empty tensor handle (made by new TensorHandle(), not by the engine)");
  return tensor;
}

Napi::Value TensorHandle::Shape(const Napi::CallbackInfo& info) {
  const at::Tensor& t = live();
  Napi::Array a = Napi::Array::New(info.Env(), t.dim());
  for (int64_t i = 0; i < t.dim(); ++i) a.Set(static_cast<uint32_t>(i), Napi::Number::New(info.Env(), t.size(i)));
  return a;
}

Napi::Value TensorHandle::Dtype(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), dtypeName(live().scalar_type()));
}

Napi::Value TensorHandle::DeviceName(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), live().device().str());
}

Napi::Value TensorHandle::Dispose(const Napi::CallbackInfo& info) {
  Release();
  return info.Env().Undefined();
}

Napi::Value TensorHandle::IsDisposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), disposed); }

static Napi::Value makeTypedArray(Napi::Env env, napi_typedarray_type type, size_t n, Napi::ArrayBuffer buf) {
  napi_value out;
  napi_status st = napi_create_typedarray(env, type, n, buf, 0, &out);
  if (st != napi_ok) throw Napi::Error::New(env, "could not create a typed array");
  return Napi::Value(env, out);
}

static napi_typedarray_type arrayTypeFor(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return napi_float32_array;
    case at::kDouble: return napi_float64_array;
    case at::kHalf:
    case at::kBFloat16: return napi_uint16_array;  // raw 16-bit patterns
    case at::kLong: return napi_bigint64_array;
    case at::kInt: return napi_int32_array;
    case at::kShort: return napi_int16_array;
    case at::kChar: return napi_int8_array;
    case at::kByte:
    case at::kBool: return napi_uint8_array;
    default: throw std::invalid_argument("no typed array for dtype " + dtypeName(t));
  }
}

// A copy of the values as a new TypedArray (contiguous, CPU).
Napi::Value TensorHandle::ToArray(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  at::Tensor t = live().detach().to(at::kCPU).contiguous();
  napi_typedarray_type type = arrayTypeFor(t.scalar_type());
  size_t n = static_cast<size_t>(t.numel());
  Napi::ArrayBuffer buf = Napi::ArrayBuffer::New(env, n * t.element_size());
  if (n) std::memcpy(buf.Data(), t.data_ptr(), n * t.element_size());
  return makeTypedArray(env, type, n, buf);
}

// A TypedArray aliasing the tensor's memory (no copy): only for contiguous CPU tensors. The array
// keeps the storage alive; writes through it change the tensor.
Napi::Value TensorHandle::DataView(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const at::Tensor& t = live();
  if (!t.is_cpu() || !t.is_contiguous()) throw ArgError(ErrorKind::Error, "needs a contiguous CPU tensor");
  size_t n = static_cast<size_t>(t.numel());
  napi_typedarray_type type = arrayTypeFor(t.scalar_type());
  auto* keep = new at::Tensor(t.detach());
  if (n == 0) {
    delete keep;
    return makeTypedArray(env, type, 0, Napi::ArrayBuffer::New(env, 0));
  }
  Napi::ArrayBuffer buf = Napi::ArrayBuffer::New(env, keep->data_ptr(), n * t.element_size(),
                                                 [](Napi::Env, void*, at::Tensor* k) { delete k; }, keep);
  return makeTypedArray(env, type, n, buf);
}

Napi::Value TensorHandle::Item(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const at::Tensor& t = live();
  if (t.numel() != 1) throw ArgError(ErrorKind::Error, "needs exactly one element");
  if (t.scalar_type() == at::kBool) return Napi::Boolean::New(env, t.item<bool>());
  return Napi::Number::New(env, t.item<double>());
}

// ---------------------------------------------------------------------------------------------
void Args::missingOrWrongType(size_t i, const char* want) const {
  const std::string arg = "argument " + std::to_string(i);
  if (i >= size() || raw(i).IsUndefined()) throw ArgError(ErrorKind::Type, arg + " is missing: it must be " + want);
  throw ArgError(ErrorKind::Type, arg + " must be " + want);
}

void Args::outOfRange(size_t i, const std::string& want) const {
  throw ArgError(ErrorKind::Range, "argument " + std::to_string(i) + " must be " + want);
}

double Args::number(size_t i, const char* want) const {
  if (i >= size() || !raw(i).IsNumber()) missingOrWrongType(i, want);
  return raw(i).As<Napi::Number>().DoubleValue();
}

bool Args::isTensor(size_t i) const { return i < size() && TensorHandle::Is(env(), raw(i)); }

namespace {
const at::Tensor& liveArg(TensorHandle* h, size_t i, const char* holds) {
  const std::string arg = "argument " + std::to_string(i);
  if (h->disposed) throw ArgError(ErrorKind::Error, arg + holds + " a disposed tensor");
  if (!h->tensor.defined()) throw ArgError(ErrorKind::Error, arg + holds + " an empty tensor handle");
  return h->tensor;
}
}  // namespace

const at::Tensor& Args::T(size_t i) const {
  TensorHandle* h = i < size() ? TensorHandle::Find(env(), raw(i)) : nullptr;
  if (!h) missingOrWrongType(i, "a tensor");
  return liveArg(h, i, " is");
}

c10::optional<at::Tensor> Args::OT(size_t i) const {
  if (!has(i)) return c10::nullopt;
  return T(i);
}

std::vector<at::Tensor> Args::Ts(size_t i) const {
  if (i >= size() || !raw(i).IsArray()) missingOrWrongType(i, "an array of tensors");
  Napi::Array arr = raw(i).As<Napi::Array>();
  std::vector<at::Tensor> out;
  for (uint32_t k = 0, n = arr.Length(); k < n; ++k) {  // element by element: a sparse array fails at its first hole
    TensorHandle* h = TensorHandle::Find(env(), arr.Get(k));
    if (!h) missingOrWrongType(i, "an array of tensors");
    out.push_back(liveArg(h, i, " holds"));
  }
  return out;
}

int64_t Args::I(size_t i, int64_t lo, int64_t hi) const {
  lo = std::max(lo, -kMaxSafeInt);
  hi = std::min(hi, kMaxSafeInt);
  const double d = number(i, "an integer");
  // Checked as a double: casting NaN, ±Infinity or a double beyond int64 is undefined behaviour.
  if (!std::isfinite(d) || std::trunc(d) != d || d < static_cast<double>(lo) || d > static_cast<double>(hi)) {
    if (lo == -kMaxSafeInt && hi == kMaxSafeInt) outOfRange(i, "an integer of at most 2^53-1 in magnitude, got " + jsNumber(d));
    outOfRange(i, "an integer from " + std::to_string(lo) + " to " + std::to_string(hi) + ", got " + jsNumber(d));
  }
  return static_cast<int64_t>(d);
}

c10::optional<int64_t> Args::OI(size_t i) const {
  if (!has(i)) return c10::nullopt;
  return I(i);
}

double Args::D(size_t i) const {
  const double d = number(i, "a number");
  if (!std::isfinite(d)) outOfRange(i, "a finite number, got " + jsNumber(d));
  return d;
}

double Args::Dx(size_t i) const { return number(i, "a number"); }

bool Args::B(size_t i) const {
  if (i >= size() || !raw(i).IsBoolean()) missingOrWrongType(i, "a boolean");
  return raw(i).As<Napi::Boolean>().Value();
}

std::string Args::S(size_t i) const {
  if (i >= size() || !raw(i).IsString()) missingOrWrongType(i, "a string");
  return raw(i).As<Napi::String>().Utf8Value();
}

std::vector<int64_t> Args::Ints(size_t i) const {
  if (i >= size() || !raw(i).IsArray()) missingOrWrongType(i, "an array of integers");
  Napi::Array arr = raw(i).As<Napi::Array>();
  std::vector<int64_t> out;
  for (uint32_t k = 0, n = arr.Length(); k < n; ++k) {
    Napi::Value v = arr.Get(k);
    if (!v.IsNumber()) missingOrWrongType(i, "an array of integers");
    const double d = v.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d) || std::trunc(d) != d || std::fabs(d) > static_cast<double>(kMaxSafeInt))
      outOfRange(i, "an array of integers of at most 2^53-1 in magnitude, got " + jsNumber(d) + " at index " +
                        std::to_string(k));
    out.push_back(static_cast<int64_t>(d));
  }
  return out;
}

at::TensorOptions Args::Opts(size_t i) const {
  at::TensorOptions o = at::TensorOptions().dtype(has(i) ? parseDtype(S(i)) : at::kFloat);
  if (has(i + 1)) o = o.device(parseDevice(S(i + 1)));
  return o;
}

at::Scalar Args::Sc(size_t i) const {
  if (i < size() && raw(i).IsBoolean()) return at::Scalar(raw(i).As<Napi::Boolean>().Value());
  const double d = number(i, "a number or a boolean");
  // Integral numbers stay integral so that integer tensors are not promoted to float; the
  // range test comes before the cast (NaN and ±Infinity stay doubles).
  if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) <= static_cast<double>(kMaxSafeInt))
    return at::Scalar(static_cast<int64_t>(d));
  return at::Scalar(d);
}

// ---------------------------------------------------------------------------------------------
Napi::Value toJs(Napi::Env env, const at::Tensor& t) { return TensorHandle::Wrap(env, t); }

Napi::Value toJs(Napi::Env env, const std::vector<at::Tensor>& ts) {
  Napi::Array a = Napi::Array::New(env, ts.size());
  for (size_t k = 0; k < ts.size(); ++k)
    a.Set(static_cast<uint32_t>(k), ts[k].defined() ? Napi::Value(TensorHandle::Wrap(env, ts[k])) : env.Null());
  return a;
}

Napi::Value toJs(Napi::Env env, const std::tuple<at::Tensor, at::Tensor>& ts) {
  return toJs(env, std::vector<at::Tensor>{std::get<0>(ts), std::get<1>(ts)});
}

Napi::Value toJs(Napi::Env env, const std::tuple<at::Tensor, at::Tensor, at::Tensor>& ts) {
  return toJs(env, std::vector<at::Tensor>{std::get<0>(ts), std::get<1>(ts), std::get<2>(ts)});
}

}  // namespace medseg
