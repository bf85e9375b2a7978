// Module entry: the op dispatcher `call(name, ...args)`, tensor creation from TypedArrays, and the
// process-wide switches (threads, grad mode, seeds, autocast, devices).
#include "common.h"

#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/api/include/torch/cuda.h>
#include <torch/csrc/autograd/profiler_legacy.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <sstream>

namespace medseg {
namespace {

Registry& registry() {
  static Registry r = [] {
    Registry x;
    registerBasicOps(x);
    registerNnOps(x);
    registerConvOps(x);
    registerFusedOps(x);
    registerDeviceOps(x);
    return x;
  }();
  return r;
}

// "op conv3d(float32[2,1,64,64,64], float32[32,1,3,3,3], 1, 1): <message>"
std::string failure(const Napi::CallbackInfo& info, const std::string& op, const std::string& what) {
  std::ostringstream o;
  o << op << "(";
  for (size_t i = 1; i < info.Length(); ++i) {
    if (i > 1) o << ", ";
    Napi::Value v = info[i];
    if (TensorHandle::Is(info.Env(), v)) {
      TensorHandle* h = TensorHandle::Unwrap(v);
      o << (h->disposed ? std::string("disposed") : describe(h->tensor));
    } else if (v.IsArray()) {
      Napi::Array arr = v.As<Napi::Array>();
      o << "[";
      for (uint32_t k = 0; k < arr.Length() && k < 8; ++k) {
        Napi::Value e = arr.Get(k);
        if (k) o << ",";
        if (TensorHandle::Is(info.Env(), e)) o << describe(TensorHandle::Unwrap(e)->tensor);
        else o << e.ToString().Utf8Value();
      }
      if (arr.Length() > 8) o << ",...";
      o << "]";
    } else if (v.IsUndefined() || v.IsNull()) {
      o << "null";
    } else {
      o << v.ToString().Utf8Value();
    }
  }
  o << "): " << what;
  return o.str();
}

Napi::Value throwOpError(const Napi::CallbackInfo& info, const std::string& op, const std::string& what) {
  Napi::Error err = Napi::Error::New(info.Env(), failure(info, op, what));
  err.Set("op", Napi::String::New(info.Env(), op));
  err.Set("engine", Napi::Boolean::New(info.Env(), true));
  throw err;
}

// First line of a libtorch message: enough to say what was wrong without the C++ backtrace.
std::string firstLines(const std::string& s) {
  std::string out = s.substr(0, s.find("\nException raised from"));
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

Napi::Value Call(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "call(name, ...args)");
  std::string op = info[0].As<Napi::String>().Utf8Value();
  auto it = registry().find(op);
  if (it == registry().end()) return throwOpError(info, op, "no such op");
  Args args(info, 1);
  try {
    return it->second(args);
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    return throwOpError(info, op, firstLines(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    return throwOpError(info, op, e.what());
  }
}

Napi::Value OpNames(const Napi::CallbackInfo& info) {
  Napi::Array a = Napi::Array::New(info.Env());
  uint32_t k = 0;
  for (auto& kv : registry()) a.Set(k++, Napi::String::New(info.Env(), kv.first));
  return a;
}

// fromArray(typedArray, shape, dtype, device?): copies the values into a new tensor.
Napi::Value FromArray(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  try {
    if (info.Length() < 3 || !info[0].IsTypedArray()) throw std::invalid_argument("fromArray(typedArray, shape, dtype)");
    Napi::TypedArray arr = info[0].As<Napi::TypedArray>();
    Args a(info, 0);
    std::vector<int64_t> shape = a.Ints(1);
    at::ScalarType dtype = a.Dtype(2);
    // bool arrives as uint8 and is normalised to 0/1 by the cast below.
    at::ScalarType storeAs = dtype == at::kBool ? at::kByte : dtype;
    at::Tensor t = at::empty(shape, at::TensorOptions().dtype(storeAs));
    size_t bytes = static_cast<size_t>(t.numel()) * t.element_size();
    if (arr.ByteLength() != bytes) {
      std::ostringstream o;
      o << "fromArray: " << arr.ByteLength() << " bytes given, shape " << describe(t) << " needs " << bytes;
      throw std::invalid_argument(o.str());
    }
    if (bytes) std::memcpy(t.data_ptr(), static_cast<uint8_t*>(arr.ArrayBuffer().Data()) + arr.ByteOffset(), bytes);
    if (dtype == at::kBool) t = t.ne(0);
    if (a.has(3)) t = t.to(parseDevice(a.S(3)));
    return TensorHandle::Wrap(env, t);
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, std::string("fromArray: ") + firstLines(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("torchVersion", Napi::String::New(env, TORCH_VERSION));
  o.Set("cudaAvailable", Napi::Boolean::New(env, torch::cuda::is_available()));
  o.Set("cudaDevices", Napi::Number::New(env, static_cast<double>(torch::cuda::is_available() ? torch::cuda::device_count() : 0)));
  o.Set("mkldnn", Napi::Boolean::New(env, at::hasMKLDNN()));
  o.Set("threads", Napi::Number::New(env, at::get_num_threads()));
  o.Set("parallelInfo", Napi::String::New(env, at::get_parallel_info()));
  return o;
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  Args a(info, 0);
  at::set_num_threads(static_cast<int>(a.I(0)));
  return info.Env().Undefined();
}

// setGradEnabled(bool) -> previous state
Napi::Value SetGradEnabled(const Napi::CallbackInfo& info) {
  Args a(info, 0);
  bool prev = c10::GradMode::is_enabled();
  c10::GradMode::set_enabled(a.B(0));
  return Napi::Boolean::New(info.Env(), prev);
}

Napi::Value IsGradEnabled(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), c10::GradMode::is_enabled());
}

Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
  Args a(info, 0);
  at::manual_seed(static_cast<uint64_t>(a.I(0)));
  return info.Env().Undefined();
}

// The CPU generator's state as a uint8 tensor, and back: exact resumption of training.
Napi::Value GetRngState(const Napi::CallbackInfo& info) {
  auto gen = at::globalContext().defaultGenerator(at::kCPU);
  std::lock_guard<std::mutex> lock(gen.mutex());
  return TensorHandle::Wrap(info.Env(), gen.get_state());
}

Napi::Value SetRngState(const Napi::CallbackInfo& info) {
  Args a(info, 0);
  try {
    auto gen = at::globalContext().defaultGenerator(at::kCPU);
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(a.T(0));
  } catch (const c10::Error& e) {
    throw Napi::Error::New(info.Env(), std::string("setRngState: ") + firstLines(e.what_without_backtrace()));
  }
  return info.Env().Undefined();
}

// setAutocast(dtype): 'float32' turns it off; 'bfloat16' / 'float16' make convolutions and
// matmuls compute in that type (weights stay float32).
Napi::Value SetAutocast(const Napi::CallbackInfo& info) {
  Args a(info, 0);
  at::ScalarType prev = autocastDtype();
  try {
    setAutocastDtype(a.Dtype(0));
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), std::string("setAutocast: ") + e.what());
  }
  return Napi::String::New(info.Env(), dtypeName(prev));
}

Napi::Value CudaSynchronize(const Napi::CallbackInfo& info) {
  if (torch::cuda::is_available()) torch::cuda::synchronize();
  return info.Env().Undefined();
}

// memoryStats() -> { cachedBytes }; emptyCache(); setCacheLimit(bytes)
Napi::Value MemoryStats(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("cachedBytes", Napi::Number::New(info.Env(), static_cast<double>(cachedAllocatorBytes())));
  o.Set("maps", Napi::Number::New(info.Env(), static_cast<double>(allocatorMaps())));
  return o;
}

// startProfile(file) / stopProfile(): libtorch's op profiler, written as a Chrome trace on stop.
torch::autograd::profiler::RecordProfile* g_profile = nullptr;

Napi::Value StartProfile(const Napi::CallbackInfo& info) {
  Args a(info, 0);
  if (g_profile) throw Napi::Error::New(info.Env(), "startProfile: a profile is already running");
  g_profile = new torch::autograd::profiler::RecordProfile(a.S(0));
  return info.Env().Undefined();
}

Napi::Value StopProfile(const Napi::CallbackInfo& info) {
  delete g_profile;
  g_profile = nullptr;
  return info.Env().Undefined();
}

Napi::Value EmptyCache(const Napi::CallbackInfo& info) {
  emptyAllocatorCache();
  return info.Env().Undefined();
}

Napi::Value SetCacheLimit(const Napi::CallbackInfo& info) {
  Args a(info, 0);
  setAllocatorCacheLimit(static_cast<size_t>(std::max<double>(0, a.D(0))));
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  if (!std::getenv("MEDSEG_NO_CACHING_ALLOCATOR")) installCachingAllocator();
  auto* data = new AddonData();
  data->tensorCtor = Napi::Persistent(TensorHandle::Define(env));
  env.SetInstanceData<AddonData>(data);
  exports.Set("TensorHandle", data->tensorCtor.Value());
  exports.Set("call", Napi::Function::New(env, Call, "call"));
  exports.Set("opNames", Napi::Function::New(env, OpNames, "opNames"));
  exports.Set("fromArray", Napi::Function::New(env, FromArray, "fromArray"));
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads, "setThreads"));
  exports.Set("setGradEnabled", Napi::Function::New(env, SetGradEnabled, "setGradEnabled"));
  exports.Set("isGradEnabled", Napi::Function::New(env, IsGradEnabled, "isGradEnabled"));
  exports.Set("manualSeed", Napi::Function::New(env, ManualSeed, "manualSeed"));
  exports.Set("getRngState", Napi::Function::New(env, GetRngState, "getRngState"));
  exports.Set("setRngState", Napi::Function::New(env, SetRngState, "setRngState"));
  exports.Set("setAutocast", Napi::Function::New(env, SetAutocast, "setAutocast"));
  exports.Set("memoryStats", Napi::Function::New(env, MemoryStats, "memoryStats"));
  exports.Set("startProfile", Napi::Function::New(env, StartProfile, "startProfile"));
  exports.Set("stopProfile", Napi::Function::New(env, StopProfile, "stopProfile"));
  exports.Set("emptyCache", Napi::Function::New(env, EmptyCache, "emptyCache"));
  exports.Set("setCacheLimit", Napi::Function::New(env, SetCacheLimit, "setCacheLimit"));
  exports.Set("cudaSynchronize", Napi::Function::New(env, CudaSynchronize, "cudaSynchronize"));
  return exports;
}

}  // namespace
}  // namespace medseg

static Napi::Object InitMedsegNative(Napi::Env env, Napi::Object exports) { return medseg::Init(env, exports); }
NODE_API_MODULE(medseg_native, InitMedsegNative)
