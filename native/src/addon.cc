// Module entry: the op dispatcher `call(name, ...args)`, tensor creation from TypedArrays, and the
// process-wide switches (threads, grad mode, seeds, autocast, devices).
#include "common.h"

#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/api/include/torch/cuda.h>
#include <torch/csrc/autograd/profiler_legacy.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>

namespace medseg {
// The c10d functions (distributed.cc), defined on the module's exports.
void registerDistributed(Napi::Env env, Napi::Object exports);

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

// call(name, ...args): the op's own guard names the op; errors before it is known name `call`.
Napi::Value Call(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsString())
    throw ArgError(ErrorKind::Type, "the first argument must be the name of an op (see opNames())");
  const std::string op = info[0].As<Napi::String>().Utf8Value();
  return guarded(info, op, 1, false, [&]() -> Napi::Value {
    auto it = registry().find(op);
    if (it == registry().end()) throw ArgError(ErrorKind::Type, "no such op");
    Args args(info, 1);
    return it->second(args);
  });
}

Napi::Value OpNames(const Napi::CallbackInfo& info) {
  Napi::Array a = Napi::Array::New(info.Env());
  uint32_t k = 0;
  for (auto& kv : registry()) a.Set(k++, Napi::String::New(info.Env(), kv.first));
  return a;
}

// fromArray(typedArray, shape, dtype, device?): copies the values into a new tensor.
Napi::Value FromArray(const Napi::CallbackInfo& info) {
  Args a(info, 0);
  if (!a.has(0) || !info[0].IsTypedArray()) throw ArgError(ErrorKind::Type, "argument 0 must be a typed array");
  Napi::TypedArray arr = info[0].As<Napi::TypedArray>();
  std::vector<int64_t> shape = a.Ints(1);
  at::ScalarType dtype = a.Dtype(2);
  // bool arrives as uint8 and is normalised to 0/1 by the cast below.
  at::ScalarType storeAs = dtype == at::kBool ? at::kByte : dtype;
  // The size check comes before the allocation: a malformed shape must not map gigabytes first.
  std::ostringstream o;
  o << dtypeName(dtype) << "[";
  uint64_t bytes = c10::elementSize(storeAs);
  bool overflow = false;
  for (size_t k = 0; k < shape.size(); ++k) {
    if (shape[k] < 0) throw ArgError(ErrorKind::Range, "argument 1 must not hold negative sizes");
    overflow = overflow || __builtin_mul_overflow(bytes, static_cast<uint64_t>(shape[k]), &bytes);
    o << (k ? "," : "") << shape[k];
  }
  o << "]";
  if (std::find(shape.begin(), shape.end(), 0) != shape.end()) bytes = 0, overflow = false;  // no elements
  if (overflow || arr.ByteLength() != bytes) {
    throw ArgError(ErrorKind::Range, std::to_string(arr.ByteLength()) + " bytes given, shape " + o.str() + " needs " +
                                         (overflow ? std::string("more than 2^64") : std::to_string(bytes)));
  }
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(storeAs));
  if (bytes) std::memcpy(t.data_ptr(), static_cast<uint8_t*>(arr.ArrayBuffer().Data()) + arr.ByteOffset(), bytes);
  if (dtype == at::kBool) t = t.ne(0);
  if (a.has(3)) t = t.to(parseDevice(a.S(3)));
  return TensorHandle::Wrap(info.Env(), t);
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

// setThreads(n), 1 <= n <= 1024: libtorch checks n > 0 by throwing c10::Error, and a huge n would
// start that many OpenMP threads at the next parallel region.
Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  Args a(info, 0);
  at::set_num_threads(static_cast<int>(a.I(0, 1, 1024)));
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

// manualSeed(seed): any safe integer; a negative seed wraps to uint64 as in PyTorch.
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
  const at::Tensor& state = a.T(0);
  auto gen = at::globalContext().defaultGenerator(at::kCPU);
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
  return info.Env().Undefined();
}

// setAutocast(dtype): 'float32' turns it off; 'bfloat16' / 'float16' make convolutions and
// matmuls compute in that type (weights stay float32).
Napi::Value SetAutocast(const Napi::CallbackInfo& info) {
  Args a(info, 0);
  at::ScalarType prev = autocastDtype();
  setAutocastDtype(a.Dtype(0));
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
  const std::string file = a.S(0);
  if (g_profile) throw ArgError(ErrorKind::Error, "a profile is already running");
  // RecordProfile writes its file only when it stops, and says nothing when it cannot: try now.
  if (!std::ofstream(file, std::ios::app)) throw ArgError(ErrorKind::Error, "cannot write '" + file + "'");
  g_profile = new torch::autograd::profiler::RecordProfile(file);
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
  setAllocatorCacheLimit(static_cast<size_t>(a.I(0, 0, Args::kMaxSafeInt)));
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  if (!std::getenv("MEDSEG_NO_CACHING_ALLOCATOR")) installCachingAllocator();
  auto* data = new AddonData();
  data->tensorCtor = Napi::Persistent(TensorHandle::Define(env));
  env.SetInstanceData<AddonData>(data);
  exports.Set("TensorHandle", data->tensorCtor.Value());
  // Every function goes through the guard (guard.h): no C++ exception ever reaches node-addon-api.
  const std::pair<const char*, Napi::Value (*)(const Napi::CallbackInfo&)> functions[] = {
      {"call", Call},
      {"opNames", OpNames},
      {"fromArray", FromArray},
      {"info", Info},
      {"setThreads", SetThreads},
      {"setGradEnabled", SetGradEnabled},
      {"isGradEnabled", IsGradEnabled},
      {"manualSeed", ManualSeed},
      {"getRngState", GetRngState},
      {"setRngState", SetRngState},
      {"setAutocast", SetAutocast},
      {"memoryStats", MemoryStats},
      {"startProfile", StartProfile},
      {"stopProfile", StopProfile},
      {"emptyCache", EmptyCache},
      {"setCacheLimit", SetCacheLimit},
      {"cudaSynchronize", CudaSynchronize},
  };
  for (const auto& [name, fn] : functions) defineGuarded(env, exports, name, fn);
  registerDistributed(env, exports);  // distributed.cc: c10d process groups
  return exports;
}

}  // namespace
}  // namespace medseg

static Napi::Object InitMedsegNative(Napi::Env env, Napi::Object exports) { return medseg::Init(env, exports); }
NODE_API_MODULE(medseg_native, InitMedsegNative)
