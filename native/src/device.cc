// Device ops: what the addon was built against (CUDA, cuDNN), the visible GPUs (name, memory),
// cuDNN's benchmark mode, and the gradient unscaling of mixed-precision training.
//
// Nothing here includes a CUDA header: the addon must build against a pip torch or an official
// libtorch without a CUDA toolkit installed. Build facts come from ATen's CUDA hooks (real only when
// libtorch_cuda is linked); device names and free memory come from the CUDA runtime that
// libtorch_cuda has already loaded into the process, found by name and called through dlsym with
// its stable C ABI. When it is absent (CPU builds) those answers are null.
#include "common.h"

#include <ATen/detail/CUDAHooksInterface.h>

#include <dlfcn.h>
#include <link.h>

#include <cstring>
#include <string>
#include <vector>

#ifndef MEDSEG_HAS_CUDA
#define MEDSEG_HAS_CUDA 0
#endif

namespace medseg {
namespace {

// ---- the CUDA runtime, looked up in the loaded objects -------------------------------------------
struct CudaRuntime {
  using GetInt = int (*)(int*);
  using SetInt = int (*)(int);
  using MemInfo = int (*)(size_t*, size_t*);
  using Props = int (*)(void*, int);
  using Attr = int (*)(int*, int, int);
  GetInt getDeviceCount = nullptr;
  GetInt getDevice = nullptr;
  SetInt setDevice = nullptr;
  MemInfo memGetInfo = nullptr;
  Props getDeviceProperties = nullptr;
  Attr deviceGetAttribute = nullptr;
  bool ok() const { return getDeviceCount && getDevice && setDevice && memGetInfo; }
};

struct Search {
  const char* name;
  std::string path;
};

int findLoaded(struct dl_phdr_info* info, size_t, void* data) {
  auto* s = static_cast<Search*>(data);
  if (info->dlpi_name && std::strstr(info->dlpi_name, s->name)) {
    s->path = info->dlpi_name;
    return 1;
  }
  return 0;
}

// A handle on an already loaded library whose file name contains `name` (nullptr when none is).
void* loaded(const char* name) {
  Search s{name, {}};
  dl_iterate_phdr(findLoaded, &s);
  return s.path.empty() ? nullptr : dlopen(s.path.c_str(), RTLD_LAZY | RTLD_NOLOAD);
}

// The driver API (libcuda, always a shared library): device names and total memory when the
// runtime is linked statically into libtorch_cuda and cannot be found.
struct CudaDriver {
  int (*getName)(char*, int, int) = nullptr;
  int (*totalMem)(size_t*, int) = nullptr;
};

const CudaDriver& cudaDriver() {
  static CudaDriver d = [] {
    CudaDriver r;
    if (!MEDSEG_HAS_CUDA) return r;
    void* h = loaded("libcuda.so");
    if (!h) return r;
    r.getName = reinterpret_cast<int (*)(char*, int, int)>(dlsym(h, "cuDeviceGetName"));
    r.totalMem = reinterpret_cast<int (*)(size_t*, int)>(dlsym(h, "cuDeviceTotalMem_v2"));
    return r;
  }();
  return d;
}

const CudaRuntime& cudart() {
  static CudaRuntime rt = [] {
    CudaRuntime r;
    if (!MEDSEG_HAS_CUDA) return r;
    void* h = loaded("libcudart");
    if (!h) return r;
    r.getDeviceCount = reinterpret_cast<CudaRuntime::GetInt>(dlsym(h, "cudaGetDeviceCount"));
    r.getDevice = reinterpret_cast<CudaRuntime::GetInt>(dlsym(h, "cudaGetDevice"));
    r.setDevice = reinterpret_cast<CudaRuntime::SetInt>(dlsym(h, "cudaSetDevice"));
    r.memGetInfo = reinterpret_cast<CudaRuntime::MemInfo>(dlsym(h, "cudaMemGetInfo"));
    // CUDA 12+ exports the _v2 entry point (the header maps the plain name onto it).
    void* props = dlsym(h, "cudaGetDeviceProperties_v2");
    if (!props) props = dlsym(h, "cudaGetDeviceProperties");
    r.getDeviceProperties = reinterpret_cast<CudaRuntime::Props>(props);
    r.deviceGetAttribute = reinterpret_cast<CudaRuntime::Attr>(dlsym(h, "cudaDeviceGetAttribute"));
    return r;
  }();
  return rt;
}

bool cudaLinked() { return MEDSEG_HAS_CUDA != 0; }

int visibleGpus() {
  if (!cudaLinked()) return 0;
  try {
    return at::detail::getCUDAHooks().getNumGPUs();
  } catch (const std::exception&) {
    return 0;
  }
}

// device_build() -> { cuda, cudaRuntime, cudnn, cudnnBenchmark, gpus, runtimeFound }
Napi::Value DeviceBuild(Args& a) {
  Napi::Env env = a.env();
  Napi::Object o = Napi::Object::New(env);
  const bool cuda = cudaLinked();
  o.Set("cuda", Napi::Boolean::New(env, cuda));
  o.Set("gpus", Napi::Number::New(env, visibleGpus()));
  Napi::Value rtVersion = env.Null(), cudnn = env.Null();
  if (cuda) {
    const auto& hooks = at::detail::getCUDAHooks();
    try {
      rtVersion = Napi::Number::New(env, static_cast<double>(hooks.versionCUDART()));
    } catch (const std::exception&) {
    }
    try {
      if (hooks.compiledWithCuDNN()) cudnn = Napi::Number::New(env, static_cast<double>(hooks.versionCuDNN()));
    } catch (const std::exception&) {
    }
  }
  o.Set("cudaRuntime", rtVersion);
  o.Set("cudnn", cudnn);
  o.Set("cudnnBenchmark", Napi::Boolean::New(env, at::globalContext().benchmarkCuDNN()));
  o.Set("runtimeFound", Napi::Boolean::New(env, cudart().ok()));
  return o;
}

// cuda_device(index) -> { index, name, totalBytes, freeBytes, major, minor } or null when the CUDA
// runtime cannot be reached (CPU build) or the index is not a visible device.
Napi::Value CudaDevice(Args& a) {
  Napi::Env env = a.env();
  const int index = static_cast<int>(a.I(0));
  const CudaRuntime& rt = cudart();
  if (index < 0 || index >= visibleGpus()) return env.Null();
  if (!rt.ok()) {
    // no runtime to call: what the driver says (no free memory: it needs a context)
    const CudaDriver& drv = cudaDriver();
    if (!drv.getName) return env.Null();
    char name[256] = {0};
    size_t total = 0;
    Napi::Object o = Napi::Object::New(env);
    o.Set("index", Napi::Number::New(env, index));
    o.Set("name", drv.getName(name, sizeof(name) - 1, index) == 0 ? Napi::String::New(env, name) : env.Null());
    o.Set("totalBytes", drv.totalMem && drv.totalMem(&total, index) == 0
                            ? Napi::Number::New(env, static_cast<double>(total))
                            : env.Null());
    o.Set("freeBytes", env.Null());
    o.Set("major", env.Null());
    o.Set("minor", env.Null());
    return o;
  }
  int prev = 0;
  if (rt.getDevice(&prev) != 0) return env.Null();
  Napi::Object o = Napi::Object::New(env);
  o.Set("index", Napi::Number::New(env, index));
  size_t freeBytes = 0, totalBytes = 0;
  bool memOk = rt.setDevice(index) == 0 && rt.memGetInfo(&freeBytes, &totalBytes) == 0;
  rt.setDevice(prev);
  o.Set("freeBytes", memOk ? Napi::Number::New(env, static_cast<double>(freeBytes)) : env.Null());
  o.Set("totalBytes", memOk ? Napi::Number::New(env, static_cast<double>(totalBytes)) : env.Null());
  // cudaDeviceProp starts with `char name[256]` in every CUDA version; the rest of its layout
  // changes between versions and is not read (a generous buffer takes whatever size it has).
  std::vector<char> props(64 * 1024, 0);
  std::string name;
  if (rt.getDeviceProperties && rt.getDeviceProperties(props.data(), index) == 0)
    name.assign(props.data(), strnlen(props.data(), 256));
  o.Set("name", name.empty() ? env.Null() : Napi::String::New(env, name));
  int major = -1, minor = -1;
  if (rt.deviceGetAttribute) {
    rt.deviceGetAttribute(&major, 75, index);  // cudaDevAttrComputeCapabilityMajor
    rt.deviceGetAttribute(&minor, 76, index);  // cudaDevAttrComputeCapabilityMinor
  }
  o.Set("major", major >= 0 ? Napi::Number::New(env, major) : env.Null());
  o.Set("minor", minor >= 0 ? Napi::Number::New(env, minor) : env.Null());
  return o;
}

// cudnn_benchmark(on) -> previous: cuDNN times its convolution algorithms on the first call of each
// shape and keeps the fastest (worth it when every batch has the same patch size).
Napi::Value CudnnBenchmark(Args& a) {
  bool prev = at::globalContext().benchmarkCuDNN();
  at::globalContext().setBenchmarkCuDNN(a.B(0));
  return Napi::Boolean::New(a.env(), prev);
}

// amp_unscale_(grads, invScale) -> true when any gradient holds an inf or NaN. Multiplies every
// gradient by invScale in place; the non-finite flag stays on the device until one read at the end
// (one synchronisation per step, as torch.cuda.amp.GradScaler).
Napi::Value AmpUnscale(Args& a) {
  std::vector<at::Tensor> grads = a.Ts(0);
  const double inv = a.D(1);
  at::Tensor bad;
  for (at::Tensor& g : grads) {
    if (!g.defined()) continue;
    g.mul_(inv);
    at::Tensor nonFinite = g.isfinite().logical_not().any();
    bad = bad.defined() ? bad.logical_or(nonFinite) : nonFinite;
  }
  return Napi::Boolean::New(a.env(), bad.defined() && bad.item<bool>());
}

}  // namespace

void registerDeviceOps(Registry& r) {
  r["device_build"] = DeviceBuild;
  r["cuda_device"] = CudaDevice;
  r["cudnn_benchmark"] = CudnnBenchmark;
  r["amp_unscale_"] = AmpUnscale;
}

}  // namespace medseg
