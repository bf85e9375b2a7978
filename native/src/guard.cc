// Conversion of every C++ failure into a JavaScript error (see guard.h).
#include "common.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace medseg {

std::string firstLines(const std::string& s) {
  std::string out = s.substr(0, s.find("\nException raised from"));
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

std::string jsNumber(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  char buf[40];
  if (d == std::trunc(d) && std::fabs(d) < 1e21) {
    std::snprintf(buf, sizeof buf, "%.0f", d);
    return buf;
  }
  // the shortest form that reads back as the same double, as JavaScript prints it
  for (int p = 1; p <= 17; ++p) {
    std::snprintf(buf, sizeof buf, "%.*g", p, d);
    if (std::strtod(buf, nullptr) == d) break;
  }
  return buf;
}

namespace {

std::string describeValue(Napi::Env env, const Napi::Value& v, int depth) {
  // Anything below may run user JavaScript (proxies, getters); a throw there only blurs the message.
  try {
    switch (v.Type()) {
      case napi_undefined: return "undefined";
      case napi_null: return "null";
      case napi_boolean: return v.As<Napi::Boolean>().Value() ? "true" : "false";
      case napi_number: return jsNumber(v.As<Napi::Number>().DoubleValue());
      case napi_string: {
        std::string s = v.As<Napi::String>().Utf8Value();
        if (s.size() > 40) s = s.substr(0, 40) + "...";
        return "'" + s + "'";
      }
      case napi_symbol: return "symbol";
      case napi_bigint: return "bigint";
      case napi_function: return "function";
      case napi_external: return "external";
      case napi_object: break;
    }
    if (TensorHandle* h = TensorHandle::Find(env, v)) {
      if (h->disposed) return "disposed";
      if (!h->tensor.defined()) return "empty handle";
      return describe(h->tensor);
    }
    if (v.IsTypedArray()) {
      Napi::TypedArray a = v.As<Napi::TypedArray>();
      return "TypedArray(" + std::to_string(a.ElementLength()) + ")";
    }
    if (v.IsArray()) {
      if (depth > 1) return "[...]";
      Napi::Array arr = v.As<Napi::Array>();
      std::string o = "[";
      const uint32_t n = arr.Length();
      for (uint32_t k = 0; k < n && k < 8; ++k) o += (k ? "," : "") + describeValue(env, arr.Get(k), depth + 1);
      if (n > 8) o += ",...(" + std::to_string(n) + ")";
      return o + "]";
    }
    return "object";
  } catch (...) {
    return "?";
  }
}

Napi::Error jsError(Napi::Env env, ErrorKind kind, const std::string& message) {
  switch (kind) {
    case ErrorKind::Type: return Napi::TypeError::New(env, message);
    case ErrorKind::Range: return Napi::RangeError::New(env, message);
    default: return Napi::Error::New(env, message);
  }
}

}  // namespace

std::string describeCall(const Napi::CallbackInfo& info, const std::string& name, size_t first, bool withThis) {
  std::string o = name + "(";
  bool any = false;
  if (withThis) {
    o += describeValue(info.Env(), info.This(), 0);
    any = true;
  }
  for (size_t i = first; i < info.Length(); ++i) {
    if (any) o += ", ";
    o += describeValue(info.Env(), info[i], 0);
    any = true;
  }
  return o + ")";
}

Napi::Value guarded(const Napi::CallbackInfo& info, const std::string& name, size_t first, bool withThis,
                    const std::function<Napi::Value()>& body) {
  ErrorKind kind = ErrorKind::Error;
  std::string what;
  try {
    return body();
  } catch (const EngineException&) {
    throw;  // converted by an inner guard (call(op, ...) names its op)
  } catch (const ArgError& e) {
    kind = e.kind;
    what = e.what();
  } catch (const Napi::Error& e) {
    what = e.Message();  // may carry a JS exception thrown by user code (a getter); never throws
  } catch (const c10::Error& e) {
    what = firstLines(e.what_without_backtrace());
  } catch (const std::bad_alloc&) {
    what = "out of memory (std::bad_alloc)";
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "unknown native exception";
  }
  std::string message;
  try {
    message = describeCall(info, name, first, withThis) + ": " + what;
  } catch (...) {
    message = name + "(...): " + what;
  }
  Napi::Error err = jsError(info.Env(), kind, message);
  err.Set("op", Napi::String::New(info.Env(), name));
  err.Set("engine", Napi::Boolean::New(info.Env(), true));
  throw EngineException(err);
}

void defineGuarded(Napi::Env env, Napi::Object target, const std::string& name, Callback fn, size_t first,
                   bool withThis) {
  target.Set(name, Napi::Function::New(
                       env,
                       [name, fn, first, withThis](const Napi::CallbackInfo& info) -> Napi::Value {
                         return guarded(info, name, first, withThis, [&] { return fn(info); });
                       },
                       name));
}

}  // namespace medseg
