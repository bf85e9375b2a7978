// The tensor handle, argument decoding and result conversion.
#include "common.h"

#include <atomic>
#include <cstring>
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

at::Device parseDevice(const std::string& s) { return at::Device(s); }

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
Napi::Function TensorHandle::Define(Napi::Env env) {
  return DefineClass(env, "TensorHandle",
                     {InstanceMethod("shape", &TensorHandle::Shape), InstanceMethod("dtype", &TensorHandle::Dtype),
                      InstanceMethod("device", &TensorHandle::DeviceName),
                      InstanceMethod("dispose", &TensorHandle::Dispose),
                      InstanceMethod("isDisposed", &TensorHandle::IsDisposed),
                      InstanceMethod("toArray", &TensorHandle::ToArray),
                      InstanceMethod("dataView", &TensorHandle::DataView), InstanceMethod("item", &TensorHandle::Item)});
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

bool TensorHandle::Is(Napi::Env env, const Napi::Value& v) {
  if (!v.IsObject()) return false;
  auto* data = env.GetInstanceData<AddonData>();
  return v.As<Napi::Object>().InstanceOf(data->tensorCtor.Value());
}

static const at::Tensor& live(const TensorHandle* h, Napi::Env env) {
  if (h->disposed || !h->tensor.defined()) throw Napi::Error::New(env, "tensor used after dispose()");
  return h->tensor;
}

Napi::Value TensorHandle::Shape(const Napi::CallbackInfo& info) {
  const at::Tensor& t = live(this, info.Env());
  Napi::Array a = Napi::Array::New(info.Env(), t.dim());
  for (int64_t i = 0; i < t.dim(); ++i) a.Set(static_cast<uint32_t>(i), Napi::Number::New(info.Env(), t.size(i)));
  return a;
}

Napi::Value TensorHandle::Dtype(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), dtypeName(live(this, info.Env()).scalar_type()));
}

Napi::Value TensorHandle::DeviceName(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), live(this, info.Env()).device().str());
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
  try {
    at::Tensor t = live(this, env).detach().to(at::kCPU).contiguous();
    size_t n = static_cast<size_t>(t.numel());
    Napi::ArrayBuffer buf = Napi::ArrayBuffer::New(env, n * t.element_size());
    if (n) std::memcpy(buf.Data(), t.data_ptr(), n * t.element_size());
    return makeTypedArray(env, arrayTypeFor(t.scalar_type()), n, buf);
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, std::string("toArray(") + describe(tensor) + "): " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, std::string("toArray(") + describe(tensor) + "): " + e.what());
  }
}

// A TypedArray aliasing the tensor's memory (no copy): only for contiguous CPU tensors. The array
// keeps the storage alive; writes through it change the tensor.
Napi::Value TensorHandle::DataView(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const at::Tensor& t = live(this, env);
  if (!t.is_cpu() || !t.is_contiguous())
    throw Napi::Error::New(env, "dataView(" + describe(t) + "): needs a contiguous CPU tensor");
  size_t n = static_cast<size_t>(t.numel());
  auto* keep = new at::Tensor(t.detach());
  napi_typedarray_type type = arrayTypeFor(t.scalar_type());
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
  const at::Tensor& t = live(this, env);
  if (t.numel() != 1) throw Napi::Error::New(env, "item(" + describe(t) + "): needs exactly one element");
  if (t.scalar_type() == at::kBool) return Napi::Boolean::New(env, t.item<bool>());
  return Napi::Number::New(env, t.item<double>());
}

// ---------------------------------------------------------------------------------------------
void Args::bad(size_t i, const char* want) const {
  throw std::invalid_argument("argument " + std::to_string(i) + " must be " + want);
}

bool Args::isTensor(size_t i) const { return i < size() && TensorHandle::Is(env(), raw(i)); }

const at::Tensor& Args::T(size_t i) const {
  if (!isTensor(i)) bad(i, "a tensor");
  TensorHandle* h = TensorHandle::Unwrap(raw(i));
  if (h->disposed) throw std::invalid_argument("argument " + std::to_string(i) + " is a disposed tensor");
  return h->tensor;
}

c10::optional<at::Tensor> Args::OT(size_t i) const {
  if (!has(i)) return c10::nullopt;
  return T(i);
}

std::vector<at::Tensor> Args::Ts(size_t i) const {
  if (i >= size() || !raw(i).IsArray()) bad(i, "an array of tensors");
  Napi::Array arr = raw(i).As<Napi::Array>();
  std::vector<at::Tensor> out;
  out.reserve(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); ++k) {
    Napi::Value v = arr.Get(k);
    if (!TensorHandle::Is(env(), v)) bad(i, "an array of tensors");
    TensorHandle* h = TensorHandle::Unwrap(v);
    if (h->disposed) throw std::invalid_argument("argument " + std::to_string(i) + " holds a disposed tensor");
    out.push_back(h->tensor);
  }
  return out;
}

int64_t Args::I(size_t i) const {
  if (i >= size() || !raw(i).IsNumber()) bad(i, "an integer");
  double d = raw(i).As<Napi::Number>().DoubleValue();
  if (d != static_cast<double>(static_cast<int64_t>(d))) bad(i, "an integer");
  return static_cast<int64_t>(d);
}

c10::optional<int64_t> Args::OI(size_t i) const {
  if (!has(i)) return c10::nullopt;
  return I(i);
}

double Args::D(size_t i) const {
  if (i >= size() || !raw(i).IsNumber()) bad(i, "a number");
  return raw(i).As<Napi::Number>().DoubleValue();
}

c10::optional<double> Args::OD(size_t i) const {
  if (!has(i)) return c10::nullopt;
  return D(i);
}

bool Args::B(size_t i) const {
  if (i >= size() || !raw(i).IsBoolean()) bad(i, "a boolean");
  return raw(i).As<Napi::Boolean>().Value();
}

std::string Args::S(size_t i) const {
  if (i >= size() || !raw(i).IsString()) bad(i, "a string");
  return raw(i).As<Napi::String>().Utf8Value();
}

std::vector<int64_t> Args::Ints(size_t i) const {
  if (i >= size() || !raw(i).IsArray()) bad(i, "an array of integers");
  Napi::Array arr = raw(i).As<Napi::Array>();
  std::vector<int64_t> out(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); ++k) {
    Napi::Value v = arr.Get(k);
    if (!v.IsNumber()) bad(i, "an array of integers");
    double d = v.As<Napi::Number>().DoubleValue();
    if (d != static_cast<double>(static_cast<int64_t>(d))) bad(i, "an array of integers");
    out[k] = static_cast<int64_t>(d);
  }
  return out;
}

std::vector<double> Args::Doubles(size_t i) const {
  if (i >= size() || !raw(i).IsArray()) bad(i, "an array of numbers");
  Napi::Array arr = raw(i).As<Napi::Array>();
  std::vector<double> out(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); ++k) {
    Napi::Value v = arr.Get(k);
    if (!v.IsNumber()) bad(i, "an array of numbers");
    out[k] = v.As<Napi::Number>().DoubleValue();
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
  double d = D(i);
  // Integral numbers stay integral so that integer tensors are not promoted to float.
  if (d == static_cast<double>(static_cast<int64_t>(d)) && std::abs(d) < 9.0e15) return at::Scalar(static_cast<int64_t>(d));
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
