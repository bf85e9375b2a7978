// libtorch's c10d for data-parallel training: a TCPStore rendezvous and a process group (Gloo on the
// CPU; NCCL on CUDA builds whose headers have it). The layer stays thin: one opaque handle per group
// and one function per collective, each blocking until done; buckets, averaging and policy are
// TypeScript's (src/distributed/). Every function is guarded (guard.h), so a peer that died, a store
// that does not answer or a timeout reaches JavaScript as an Error naming the call.
#include "common.h"

#include <chrono>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

// Debian's libtorch ships ProcessGroupGloo's symbols; its header needs gloo's (libgloo-dev). A
// libtorch without them builds an addon whose distGroup() explains what is missing.
#if __has_include(<gloo/config.h>) && __has_include(<torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>)
#define USE_C10D_GLOO 1
#define MEDSEG_HAS_GLOO 1
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#else
#define MEDSEG_HAS_GLOO 0
#endif
#if MEDSEG_HAS_CUDA && __has_include(<nccl.h>) && __has_include(<torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>)
#define USE_C10D_NCCL 1
#define MEDSEG_HAS_NCCL 1
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#else
#define MEDSEG_HAS_NCCL 0
#endif
#if MEDSEG_HAS_GLOO || MEDSEG_HAS_NCCL
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

namespace medseg {
namespace {

// "2.5 s", "1800 s": a timeout as people write it.
std::string seconds(std::chrono::milliseconds ms) {
  std::ostringstream o;
  o << ms.count() / 1000.0 << " s";
  return o.str();
}

#if MEDSEG_HAS_GLOO || MEDSEG_HAS_NCCL
struct Group {
  c10::intrusive_ptr<::c10d::Store> store;
  c10::intrusive_ptr<::c10d::ProcessGroup> pg;
  std::string where;  // "host:port", for messages
  std::chrono::milliseconds timeout;
};

// Tells our handles apart from any other External or object (napi_type_tag).
constexpr napi_type_tag kGroupTag = {0x6d65647365672d64ULL, 0x6973742d67726f75ULL};

Group& groupOf(const Napi::Value& v) {
  if (!v.IsExternal() || !v.As<Napi::External<Group>>().CheckTypeTag(&kGroupTag))
    throw ArgError(ErrorKind::Type, "argument 0 must be a process group made by distGroup()");
  Group* g = v.As<Napi::External<Group>>().Data();
  if (!g || !g->pg) throw ArgError(ErrorKind::Error, "the process group was destroyed");
  return *g;
}

// Waits for one collective; a failure (a peer gone, the timeout) names the store and the time.
void finish(Group& g, const c10::intrusive_ptr<::c10d::Work>& work, const char* what) {
  try {
    work->wait(g.timeout);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string(what) + " failed (group at " + g.where + ", timeout " + seconds(g.timeout) +
                             "): " + firstLines(e.what()));
  }
}
#endif

#if MEDSEG_HAS_GLOO
// The transport device: loopback rendezvous stays on loopback; GLOO_SOCKET_IFNAME picks an interface
// as in PyTorch; otherwise the address this machine's hostname resolves to.
std::shared_ptr<::gloo::transport::Device> glooDevice(const std::string& host) {
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname)
    return ::c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
  if (host == "127.0.0.1" || host == "localhost" || host == "::1")
    return ::c10d::ProcessGroupGloo::createDeviceForHostname(host);
  return ::c10d::ProcessGroupGloo::createDefaultDevice();
}
#endif

// distBackends() -> { gloo, nccl }: what this build can make.
Napi::Value DistBackends(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("gloo", Napi::Boolean::New(info.Env(), MEDSEG_HAS_GLOO));
  o.Set("nccl", Napi::Boolean::New(info.Env(), MEDSEG_HAS_NCCL));
  return o;
}

// distGroup(backend, host, port, rank, worldSize, timeoutMs, serve?) -> handle. Rank 0 serves the
// TCPStore at host:port (unless serve is false: torchrun's agent serves it already) and waits for
// the others; every rank then joins the group (blocking, at most timeoutMs).
Napi::Value DistGroup(const Napi::CallbackInfo& info) {
  Args a(info, 0);
  const std::string backend = a.S(0);
  const std::string host = a.S(1);
  const int64_t port = a.I(2, 1, 65535);
  const int64_t world = a.I(4, 1, 65536);
  const int64_t rank = a.I(3, 0, world - 1);
  const auto timeout = std::chrono::milliseconds(a.I(5, 1, 7LL * 24 * 3600 * 1000));
  const bool serve = rank == 0 && (!a.has(6) || a.B(6));
  if (backend != "gloo" && backend != "nccl")
    throw ArgError(ErrorKind::Range, "backend must be 'gloo' or 'nccl', not '" + backend + "'");
#if !(MEDSEG_HAS_GLOO || MEDSEG_HAS_NCCL)
  throw std::runtime_error("this addon was built without c10d (no gloo headers: install libgloo-dev and rebuild)");
#else
  if (backend == "gloo" && !MEDSEG_HAS_GLOO)
    throw std::runtime_error("this addon was built without Gloo (install libgloo-dev and rebuild)");
  if (backend == "nccl" && !MEDSEG_HAS_NCCL)
    throw std::runtime_error("this addon was built without NCCL (a CUDA libtorch with nccl.h is needed)");
  auto g = std::make_unique<Group>();
  g->where = host + ":" + std::to_string(port);
  g->timeout = timeout;
  ::c10d::TCPStoreOptions so;
  so.port = static_cast<uint16_t>(port);
  so.isServer = serve;
  so.numWorkers = static_cast<size_t>(world);
  so.waitWorkers = true;
  so.timeout = timeout;
  try {
    g->store = c10::make_intrusive<::c10d::TCPStore>(host, so);
  } catch (const std::exception& e) {
    throw std::runtime_error("rank " + std::to_string(rank) + " could not " + (serve ? "serve" : "reach") +
                             " the rendezvous store at " + g->where + " within " + seconds(timeout) + ": " +
                             firstLines(e.what()));
  }
  try {
#if MEDSEG_HAS_GLOO
    if (backend == "gloo") {
      auto opts = ::c10d::ProcessGroupGloo::Options::create(timeout);
      opts->devices.push_back(glooDevice(host));
      opts->threads = 2;
      g->pg = c10::make_intrusive<::c10d::ProcessGroupGloo>(g->store, static_cast<int>(rank),
                                                            static_cast<int>(world), opts);
    }
#endif
#if MEDSEG_HAS_NCCL
    if (backend == "nccl") {
      auto opts = ::c10d::ProcessGroupNCCL::Options::create();
      opts->timeout = timeout;
      g->pg = c10::make_intrusive<::c10d::ProcessGroupNCCL>(g->store, static_cast<int>(rank),
                                                            static_cast<int>(world), opts);
    }
#endif
  } catch (const std::exception& e) {
    throw std::runtime_error("rank " + std::to_string(rank) + " could not join the " + backend +
                             " group through the store at " + g->where + ": " + firstLines(e.what()));
  }
  Napi::External<Group> handle =
      Napi::External<Group>::New(info.Env(), g.release(), [](Napi::Env, Group* p) { delete p; });
  handle.TypeTag(&kGroupTag);
  return handle;
#endif
}

#if MEDSEG_HAS_GLOO || MEDSEG_HAS_NCCL
// distAllReduceSum(handle, tensor): the tensor (contiguous, on the group's device) becomes the sum over ranks.
Napi::Value DistAllReduceSum(const Napi::CallbackInfo& info) {
  Group& g = groupOf(info[0]);
  Args a(info, 1);
  std::vector<at::Tensor> ts{a.T(0)};
  if (!ts[0].is_contiguous()) throw ArgError(ErrorKind::Type, "argument 1 must be a contiguous tensor");
  finish(g, g.pg->allreduce(ts, ::c10d::AllreduceOptions()), "all-reduce");
  return info.Env().Undefined();
}

// distBroadcast(handle, tensor, root): every rank's tensor becomes root's.
Napi::Value DistBroadcast(const Napi::CallbackInfo& info) {
  Group& g = groupOf(info[0]);
  Args a(info, 1);
  std::vector<at::Tensor> ts{a.T(0)};
  if (!ts[0].is_contiguous()) throw ArgError(ErrorKind::Type, "argument 1 must be a contiguous tensor");
  ::c10d::BroadcastOptions o;
  o.rootRank = a.I(1, 0, g.pg->getSize() - 1);
  finish(g, g.pg->broadcast(ts, o), "broadcast");
  return info.Env().Undefined();
}

Napi::Value DistBarrier(const Napi::CallbackInfo& info) {
  Group& g = groupOf(info[0]);
  finish(g, g.pg->barrier(::c10d::BarrierOptions()), "barrier");
  return info.Env().Undefined();
}

// distStoreSet(handle, key, value) / distStoreWait(handle, key, timeoutMs) -> value: small
// messages between ranks beside the collectives (e.g. "rank 0 has prepared the data").
Napi::Value DistStoreSet(const Napi::CallbackInfo& info) {
  Group& g = groupOf(info[0]);
  Args a(info, 1);
  const std::string v = a.S(1);
  g.store->set(a.S(0), std::vector<uint8_t>(v.begin(), v.end()));
  return info.Env().Undefined();
}

Napi::Value DistStoreWait(const Napi::CallbackInfo& info) {
  Group& g = groupOf(info[0]);
  Args a(info, 1);
  const std::string key = a.S(0);
  const auto timeout = std::chrono::milliseconds(a.I(1, 1, 7LL * 24 * 3600 * 1000));
  try {
    g.store->wait({key}, timeout);
  } catch (const std::exception& e) {
    throw std::runtime_error("waited " + seconds(timeout) + " for '" + key + "' in the store at " +
                             g.where + ": " + firstLines(e.what()));
  }
  auto v = g.store->get(key);
  return Napi::String::New(info.Env(), std::string(v.begin(), v.end()));
}

// distDestroy(handle): closes the group and the store now (the GC would, later). Idempotent.
Napi::Value DistDestroy(const Napi::CallbackInfo& info) {
  if (!info[0].IsExternal() || !info[0].As<Napi::External<Group>>().CheckTypeTag(&kGroupTag))
    throw ArgError(ErrorKind::Type, "argument 0 must be a process group made by distGroup()");
  Group* g = info[0].As<Napi::External<Group>>().Data();
  g->pg.reset();
  g->store.reset();
  return info.Env().Undefined();
}
#endif

}  // namespace

void registerDistributed(Napi::Env env, Napi::Object exports) {
  defineGuarded(env, exports, "distBackends", DistBackends);
  defineGuarded(env, exports, "distGroup", DistGroup);
#if MEDSEG_HAS_GLOO || MEDSEG_HAS_NCCL
  defineGuarded(env, exports, "distAllReduceSum", DistAllReduceSum);
  defineGuarded(env, exports, "distBroadcast", DistBroadcast);
  defineGuarded(env, exports, "distBarrier", DistBarrier);
  defineGuarded(env, exports, "distStoreSet", DistStoreSet);
  defineGuarded(env, exports, "distStoreWait", DistStoreWait);
  defineGuarded(env, exports, "distDestroy", DistDestroy);
#endif
}

}  // namespace medseg
