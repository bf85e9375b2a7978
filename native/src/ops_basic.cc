// Creation, shape, elementwise, reduction, indexing, random and autograd ops.
#include "common.h"

#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/variable.h>

namespace medseg {

static at::Tensor binaryOp(const char* name, const Args& a) {
  const at::Tensor& x = a.T(0);
  const std::string n(name);
  if (a.isTensor(1)) {
    const at::Tensor& y = a.T(1);
    if (n == "add") return at::add(x, y, a.has(2) ? a.Sc(2) : at::Scalar(1));
    if (n == "sub") return at::sub(x, y, a.has(2) ? a.Sc(2) : at::Scalar(1));
    if (n == "mul") return at::mul(x, y);
    if (n == "div") return at::div(x, y);
    if (n == "pow") return at::pow(x, y);
    if (n == "eq") return at::eq(x, y);
    if (n == "ne") return at::ne(x, y);
    if (n == "lt") return at::lt(x, y);
    if (n == "le") return at::le(x, y);
    if (n == "gt") return at::gt(x, y);
    if (n == "ge") return at::ge(x, y);
    if (n == "maximum") return at::maximum(x, y);
    if (n == "minimum") return at::minimum(x, y);
    if (n == "remainder") return at::remainder(x, y);
    if (n == "logical_and") return at::logical_and(x, y);
    if (n == "logical_or") return at::logical_or(x, y);
    if (n == "logical_xor") return at::logical_xor(x, y);
  } else {
    at::Scalar y = a.Sc(1);
    if (n == "add") return at::add(x, y);
    if (n == "sub") return at::sub(x, y);
    if (n == "mul") return at::mul(x, y);
    if (n == "div") return at::div(x, y);
    if (n == "pow") return at::pow(x, y);
    if (n == "eq") return at::eq(x, y);
    if (n == "ne") return at::ne(x, y);
    if (n == "lt") return at::lt(x, y);
    if (n == "le") return at::le(x, y);
    if (n == "gt") return at::gt(x, y);
    if (n == "ge") return at::ge(x, y);
    if (n == "maximum") return at::clamp_min(x, y);
    if (n == "minimum") return at::clamp_max(x, y);
    if (n == "remainder") return at::remainder(x, y);
  }
  throw std::invalid_argument("unsupported operand types");
}

static at::IntArrayRef dimsOrAll(const std::vector<int64_t>& d) { return at::IntArrayRef(d); }

void registerBasicOps(Registry& r) {
  // ---- creation (dtype, device are optional trailing strings) ----
  MEDSEG_OP(r, "zeros", at::zeros(a.Ints(0), a.Opts(1)));
  MEDSEG_OP(r, "ones", at::ones(a.Ints(0), a.Opts(1)));
  MEDSEG_OP(r, "empty", at::empty(a.Ints(0), a.Opts(1)));
  MEDSEG_OP(r, "full", at::full(a.Ints(0), a.Sc(1), a.Opts(2)));
  MEDSEG_OP(r, "arange", at::arange(a.Sc(0), a.Sc(1), a.Sc(2), a.Opts(3)));
  MEDSEG_OP(r, "linspace", at::linspace(a.Sc(0), a.Sc(1), a.I(2), a.Opts(3)));
  MEDSEG_OP(r, "eye", at::eye(a.I(0), a.Opts(1)));
  MEDSEG_OP(r, "rand", at::rand(a.Ints(0), a.Opts(1)));
  MEDSEG_OP(r, "randn", at::randn(a.Ints(0), a.Opts(1)));
  MEDSEG_OP(r, "randint", at::randint(a.I(0), a.I(1), a.Ints(2), a.Opts(3).dtype(a.has(3) ? a.Dtype(3) : at::kLong)));
  MEDSEG_OP(r, "randperm", at::randperm(a.I(0), at::TensorOptions().dtype(at::kLong)));
  MEDSEG_OP(r, "zeros_like", at::zeros_like(a.T(0)));
  MEDSEG_OP(r, "ones_like", at::ones_like(a.T(0)));
  MEDSEG_OP(r, "rand_like", at::rand_like(a.T(0)));
  MEDSEG_OP(r, "randn_like", at::randn_like(a.T(0)));
  MEDSEG_OP(r, "scalar_tensor", at::scalar_tensor(a.Sc(0), a.Opts(1)));

  // ---- conversion and copies ----
  MEDSEG_OP(r, "to_dtype", a.T(0).to(a.Dtype(1)));
  MEDSEG_OP(r, "to_device", a.T(0).to(parseDevice(a.S(1))));
  MEDSEG_OP(r, "clone", a.T(0).clone());
  MEDSEG_OP(r, "contiguous", a.T(0).contiguous());
  MEDSEG_OP(r, "detach", a.T(0).detach());
  MEDSEG_OP(r, "is_contiguous", a.T(0).is_contiguous());

  // ---- shape ----
  MEDSEG_OP(r, "reshape", a.T(0).reshape(a.Ints(1)));
  MEDSEG_OP(r, "view", a.T(0).view(a.Ints(1)));
  MEDSEG_OP(r, "permute", a.T(0).permute(a.Ints(1)));
  MEDSEG_OP(r, "transpose", a.T(0).transpose(a.I(1), a.I(2)));
  MEDSEG_OP(r, "squeeze", a.has(1) ? a.T(0).squeeze(a.I(1)) : a.T(0).squeeze());
  MEDSEG_OP(r, "unsqueeze", a.T(0).unsqueeze(a.I(1)));
  MEDSEG_OP(r, "expand", a.T(0).expand(a.Ints(1)));
  MEDSEG_OP(r, "flatten", a.T(0).flatten(a.has(1) ? a.I(1) : 0, a.has(2) ? a.I(2) : -1));
  MEDSEG_OP(r, "narrow", a.T(0).narrow(a.I(1), a.I(2), a.I(3)));
  MEDSEG_OP(r, "slice", a.T(0).slice(a.I(1), a.OI(2), a.OI(3), a.has(4) ? a.I(4) : 1));
  MEDSEG_OP(r, "select", a.T(0).select(a.I(1), a.I(2)));
  MEDSEG_OP(r, "cat", at::cat(a.Ts(0), a.I(1)));
  MEDSEG_OP(r, "stack", at::stack(a.Ts(0), a.I(1)));
  MEDSEG_OP(r, "split", std::vector<at::Tensor>(a.T(0).split(a.I(1), a.I(2))));
  MEDSEG_OP(r, "chunk", std::vector<at::Tensor>(a.T(0).chunk(a.I(1), a.I(2))));
  MEDSEG_OP(r, "flip", at::flip(a.T(0), a.Ints(1)));
  MEDSEG_OP(r, "roll", at::roll(a.T(0), a.Ints(1), a.Ints(2)));
  MEDSEG_OP(r, "repeat", a.T(0).repeat(a.Ints(1)));

  // ---- elementwise, binary (tensor or scalar right operand) ----
  for (const char* n : {"add", "sub", "mul", "div", "pow", "eq", "ne", "lt", "le", "gt", "ge", "maximum", "minimum",
                        "remainder", "logical_and", "logical_or", "logical_xor"}) {
    std::string name(n);
    r[name] = [n](Args& a) -> Napi::Value { return toJs(a.env(), binaryOp(n, a)); };
  }
  MEDSEG_OP(r, "where", at::where(a.T(0), a.T(1), a.T(2)));
  MEDSEG_OP(r, "where_scalar", at::where(a.T(0), a.Sc(1), a.Sc(2)));
  MEDSEG_OP(r, "clamp", at::clamp(a.T(0), a.has(1) ? c10::optional<at::Scalar>(a.Sc(1)) : c10::nullopt,
                                   a.has(2) ? c10::optional<at::Scalar>(a.Sc(2)) : c10::nullopt));
  MEDSEG_OP(r, "lerp", at::lerp(a.T(0), a.T(1), a.Sc(2)));
  MEDSEG_OP(r, "masked_fill", a.T(0).masked_fill(a.T(1), a.Sc(2)));

  // ---- elementwise, unary ----
  MEDSEG_OP(r, "neg", at::neg(a.T(0)));
  MEDSEG_OP(r, "abs", at::abs(a.T(0)));
  MEDSEG_OP(r, "exp", at::exp(a.T(0)));
  MEDSEG_OP(r, "log", at::log(a.T(0)));
  MEDSEG_OP(r, "log1p", at::log1p(a.T(0)));
  MEDSEG_OP(r, "sqrt", at::sqrt(a.T(0)));
  MEDSEG_OP(r, "rsqrt", at::rsqrt(a.T(0)));
  MEDSEG_OP(r, "reciprocal", at::reciprocal(a.T(0)));
  MEDSEG_OP(r, "sign", at::sign(a.T(0)));
  MEDSEG_OP(r, "floor", at::floor(a.T(0)));
  MEDSEG_OP(r, "ceil", at::ceil(a.T(0)));
  MEDSEG_OP(r, "round", at::round(a.T(0)));
  MEDSEG_OP(r, "sin", at::sin(a.T(0)));
  MEDSEG_OP(r, "cos", at::cos(a.T(0)));
  MEDSEG_OP(r, "erf", at::erf(a.T(0)));
  MEDSEG_OP(r, "logical_not", at::logical_not(a.T(0)));
  MEDSEG_OP(r, "isnan", at::isnan(a.T(0)));
  MEDSEG_OP(r, "isinf", at::isinf(a.T(0)));
  MEDSEG_OP(r, "isfinite", at::isfinite(a.T(0)));

  // ---- in place (optimizers, buffers); run under no-grad by the callers ----
  MEDSEG_OPV(r, "add_", a.isTensor(1) ? a.T(0).add_(a.T(1), a.has(2) ? a.Sc(2) : at::Scalar(1)) : a.T(0).add_(a.Sc(1)));
  MEDSEG_OPV(r, "sub_", a.isTensor(1) ? a.T(0).sub_(a.T(1), a.has(2) ? a.Sc(2) : at::Scalar(1)) : a.T(0).sub_(a.Sc(1)));
  MEDSEG_OPV(r, "mul_", a.isTensor(1) ? a.T(0).mul_(a.T(1)) : a.T(0).mul_(a.Sc(1)));
  MEDSEG_OPV(r, "div_", a.isTensor(1) ? a.T(0).div_(a.T(1)) : a.T(0).div_(a.Sc(1)));
  MEDSEG_OPV(r, "addcmul_", a.T(0).addcmul_(a.T(1), a.T(2), a.Sc(3)));
  MEDSEG_OPV(r, "addcdiv_", a.T(0).addcdiv_(a.T(1), a.T(2), a.Sc(3)));
  MEDSEG_OPV(r, "lerp_", a.T(0).lerp_(a.T(1), a.Sc(2)));
  MEDSEG_OPV(r, "copy_", a.T(0).copy_(a.T(1)));
  MEDSEG_OPV(r, "zero_", a.T(0).zero_());
  MEDSEG_OPV(r, "fill_", a.T(0).fill_(a.Sc(1)));
  MEDSEG_OPV(r, "clamp_", a.T(0).clamp_(a.has(1) ? c10::optional<at::Scalar>(a.Sc(1)) : c10::nullopt,
                                         a.has(2) ? c10::optional<at::Scalar>(a.Sc(2)) : c10::nullopt));
  MEDSEG_OPV(r, "sqrt_", a.T(0).sqrt_());
  MEDSEG_OPV(r, "masked_fill_", a.T(0).masked_fill_(a.T(1), a.Sc(2)));
  MEDSEG_OPV(r, "uniform_", a.T(0).uniform_(a.D(1), a.D(2)));
  MEDSEG_OPV(r, "normal_", a.T(0).normal_(a.D(1), a.D(2)));

  // ---- reductions: dims = [] means all ----
  MEDSEG_OP(r, "sum", a.Ints(1).empty() ? at::sum(a.T(0)) : at::sum(a.T(0), dimsOrAll(a.Ints(1)), a.B(2)));
  MEDSEG_OP(r, "mean", a.Ints(1).empty() ? at::mean(a.T(0)) : at::mean(a.T(0), dimsOrAll(a.Ints(1)), a.B(2)));
  MEDSEG_OP(r, "var", a.Ints(1).empty() ? at::var(a.T(0), a.B(3)) : at::var(a.T(0), dimsOrAll(a.Ints(1)), a.B(3), a.B(2)));
  MEDSEG_OP(r, "std", a.Ints(1).empty() ? at::std(a.T(0), a.B(3)) : at::std(a.T(0), dimsOrAll(a.Ints(1)), a.B(3), a.B(2)));
  MEDSEG_OP(r, "amax", at::amax(a.T(0), dimsOrAll(a.Ints(1)), a.B(2)));
  MEDSEG_OP(r, "amin", at::amin(a.T(0), dimsOrAll(a.Ints(1)), a.B(2)));
  MEDSEG_OP(r, "prod", at::prod(a.T(0)));
  MEDSEG_OP(r, "max_dim", at::max(a.T(0), a.I(1), a.B(2)));
  MEDSEG_OP(r, "min_dim", at::min(a.T(0), a.I(1), a.B(2)));
  MEDSEG_OP(r, "argmax", at::argmax(a.T(0), a.OI(1), a.has(2) ? a.B(2) : false));
  MEDSEG_OP(r, "argmin", at::argmin(a.T(0), a.OI(1), a.has(2) ? a.B(2) : false));
  MEDSEG_OP(r, "any", at::any(a.T(0)));
  MEDSEG_OP(r, "all", at::all(a.T(0)));
  MEDSEG_OP(r, "norm", at::norm(a.T(0)));
  MEDSEG_OP(r, "cumsum", at::cumsum(a.T(0), a.I(1)));
  MEDSEG_OP(r, "count_nonzero", at::count_nonzero(a.T(0)));
  MEDSEG_OP(r, "bincount", at::bincount(a.T(0), a.OT(1), a.has(2) ? a.I(2) : 0));
  MEDSEG_OP(r, "quantile", at::quantile(a.T(0), a.T(1), a.OI(2), false, "linear"));
  MEDSEG_OP(r, "sort", at::sort(a.T(0), a.I(1), a.B(2)));
  MEDSEG_OP(r, "topk", at::topk(a.T(0), a.I(1), a.I(2), a.B(3), true));

  // ---- linear algebra ----
  MEDSEG_OP(r, "matmul", at::matmul(autocastArg(a.T(0)), autocastArg(a.T(1))));
  MEDSEG_OP(r, "linear", at::linear(autocastArg(a.T(0)), autocastArg(a.T(1)),
                                    a.has(2) ? c10::optional<at::Tensor>(autocastArg(a.T(2))) : c10::nullopt));

  // ---- indexing ----
  MEDSEG_OP(r, "index_select", at::index_select(a.T(0), a.I(1), a.T(2)));
  MEDSEG_OP(r, "gather", at::gather(a.T(0), a.I(1), a.T(2)));
  MEDSEG_OP(r, "scatter", at::scatter(a.T(0), a.I(1), a.T(2), a.T(3)));
  MEDSEG_OP(r, "masked_select", at::masked_select(a.T(0), a.T(1)));
  MEDSEG_OP(r, "nonzero", at::nonzero(a.T(0)));

  // ---- autograd ----
  MEDSEG_OP(r, "requires_grad", a.T(0).requires_grad());
  MEDSEG_OPV(r, "set_requires_grad", a.T(0).set_requires_grad(a.B(1)));
  MEDSEG_OP(r, "is_leaf", a.T(0).is_leaf());
  MEDSEG_OPV(r, "retain_grad", a.T(0).retain_grad());
  r["grad"] = [](Args& a) -> Napi::Value {
    const at::Tensor& g = a.T(0).grad();
    if (!g.defined()) return a.env().Null();
    return toJs(a.env(), g);
  };
  // set_grad(x, g?): as PyTorch's .grad setter, g must match x (the optimizers trust it blindly).
  r["set_grad"] = [](Args& a) -> Napi::Value {
    const at::Tensor& x = a.T(0);
    at::Tensor g = a.has(1) ? a.T(1) : at::Tensor();
    if (g.defined() && (g.sizes() != x.sizes() || g.scalar_type() != x.scalar_type() || g.device() != x.device()))
      throw ArgError(ErrorKind::Error, "the gradient must have the tensor's shape, dtype and device");
    x.mutable_grad() = g;
    return a.env().Undefined();
  };
  MEDSEG_OPV(r, "backward",
             torch::autograd::backward({a.T(0)}, a.has(1) ? torch::autograd::variable_list{a.T(1)} : torch::autograd::variable_list{},
                                       a.has(2) ? c10::optional<bool>(a.B(2)) : c10::nullopt, false));
  // grad(outputs, inputs, gradOutputs?): gradients without touching .grad (finite-difference tests, penalties).
  MEDSEG_OP(r, "autograd_grad",
            torch::autograd::grad(a.Ts(0), a.Ts(1), a.has(2) ? a.Ts(2) : torch::autograd::variable_list{}, c10::nullopt,
                                  false, true));
}

}  // namespace medseg
