// The one place where C++ failures become JavaScript errors. Every function the addon exports (the
// module's functions and the TensorHandle methods) is defined through defineGuarded(), so whatever
// its body throws (a rejected argument, a c10::Error from libtorch, a Napi::Error, std::bad_alloc,
// anything else) reaches JavaScript as one Error naming the function and describing its arguments.
// Why: node-addon-api turns only Napi::Error into a JS exception; any other C++ exception that
// unwinds out of a callback ends the process in std::terminate (exit 134), so a mistyped seed or a
// disposed tensor passed to setRngState would kill a training run instead of failing one call.
#pragma once

#include <napi.h>

#include <functional>
#include <stdexcept>
#include <string>

namespace medseg {

enum class ErrorKind { Error, Type, Range };

// A rejected argument: Type for the wrong kind of value (or a missing one), Range for a number
// outside what the function takes. Becomes a JS TypeError / RangeError.
class ArgError : public std::invalid_argument {
 public:
  ArgError(ErrorKind k, const std::string& what) : std::invalid_argument(what), kind(k) {}
  ErrorKind kind;
};

// An error already converted for JavaScript (op and arguments named): an outer guard passes it on as is.
class EngineException : public Napi::Error {
 public:
  explicit EngineException(const Napi::Error& e) : Napi::Error(e.Env(), e.Value()) {}
};

using Callback = std::function<Napi::Value(const Napi::CallbackInfo&)>;

// "name(float32[2,3], NaN, 'abc')": the arguments from index `first` on (1 for call(op, ...)),
// preceded by `this` for methods. Never calls user JavaScript that could throw out of it.
std::string describeCall(const Napi::CallbackInfo& info, const std::string& name, size_t first, bool withThis);

// Runs body; anything it throws leaves as an EngineException: a JS Error (TypeError, RangeError)
// whose message is "<describeCall>: <what went wrong>", with .op = name and .engine = true.
Napi::Value guarded(const Napi::CallbackInfo& info, const std::string& name, size_t first, bool withThis,
                    const std::function<Napi::Value()>& body);

// Defines function `name` on target with its body guarded. Methods (withThis) describe `this` too.
void defineGuarded(Napi::Env env, Napi::Object target, const std::string& name, Callback fn, size_t first = 0,
                   bool withThis = false);

// First line of a libtorch message: what was wrong, without the C++ backtrace.
std::string firstLines(const std::string& s);

// A JS number as JavaScript prints it: NaN, Infinity, -1, 0.5, 100000000000000000000.
std::string jsNumber(double d);

}  // namespace medseg
