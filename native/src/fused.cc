// Fused InstanceNorm + LeakyReLU with its own backward.
// Why: ATen's instance_norm returns a view of a batch_norm output, so an in-place LeakyReLU on it
// (what nnU-Net does to save memory) makes autograd copy the whole activation back (CopySlices)
// in every block's backward. Here the activation runs in place inside the op, the op saves the
// conv output x (which PyTorch keeps too) and its own output y (which the next conv keeps anyway),
// and the backward is one leaky_relu_backward on y plus ATen's batch-norm backward kernel.
#include "common.h"

#include <torch/csrc/autograd/custom_function.h>

namespace medseg {
namespace {

struct InstanceNormLeaky : public torch::autograd::Function<InstanceNormLeaky> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight,
                            const at::Tensor& bias, double eps, double slope) {
    const int64_t n = x.size(0), c = x.size(1);
    at::Tensor xc = x.contiguous();
    at::Tensor flat = xc.view({1, n * c, -1});
    at::Tensor w = weight.defined() ? weight.repeat({n}) : at::Tensor();
    at::Tensor b = bias.defined() ? bias.repeat({n}) : at::Tensor();
    auto res = at::native_batch_norm(flat, w.defined() ? c10::optional<at::Tensor>(w) : c10::nullopt,
                                     b.defined() ? c10::optional<at::Tensor>(b) : c10::nullopt, c10::nullopt,
                                     c10::nullopt, true, 0.0, eps);
    at::Tensor y = std::get<0>(res);
    at::leaky_relu_(y, slope);
    y = y.view(x.sizes());
    ctx->save_for_backward({xc, y, weight, std::get<1>(res), std::get<2>(res)});
    ctx->saved_data["eps"] = eps;
    ctx->saved_data["slope"] = slope;
    ctx->saved_data["affine"] = weight.defined();
    return y;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list gradOut) {
    auto s = ctx->get_saved_variables();
    const at::Tensor &x = s[0], &y = s[1], &weight = s[2], &mean = s[3], &invstd = s[4];
    const double eps = ctx->saved_data["eps"].toDouble(), slope = ctx->saved_data["slope"].toDouble();
    const int64_t n = x.size(0), c = x.size(1);
    // slope > 0 keeps the sign, so the output tells where the pre-activation was positive.
    at::Tensor dz = at::leaky_relu_backward(gradOut[0].contiguous(), y, slope, true);
    at::Tensor w = ctx->saved_data["affine"].toBool() ? weight.repeat({n}) : at::Tensor();
    auto g = at::native_batch_norm_backward(dz.view({1, n * c, -1}), x.view({1, n * c, -1}),
                                            w.defined() ? c10::optional<at::Tensor>(w) : c10::nullopt, c10::nullopt,
                                            c10::nullopt, mean, invstd, true, eps,
                                            {true, w.defined(), w.defined()});
    at::Tensor dx = std::get<0>(g).view(x.sizes());
    at::Tensor dw, db;
    if (w.defined()) {
      dw = std::get<1>(g).view({n, c}).sum(0);
      db = std::get<2>(g).view({n, c}).sum(0);
    }
    return {dx, dw, db, at::Tensor(), at::Tensor()};
  }
};

at::Tensor instanceNormLeaky(const at::Tensor& x, const c10::optional<at::Tensor>& w0,
                             const c10::optional<at::Tensor>& b0, double eps, double slope) {
  if (x.dim() < 3) throw std::invalid_argument("instance_norm_leaky_relu: input must be [N, C, spatial...]");
  if (slope <= 0) throw std::invalid_argument("instance_norm_leaky_relu: slope must be > 0");
  at::Tensor w = w0 ? *w0 : at::Tensor(), b = b0 ? *b0 : at::Tensor();
  if (w.defined() != b.defined()) throw std::invalid_argument("instance_norm_leaky_relu: give both weight and bias or neither");
  // Without affine parameters: identity ones/zeros (autograd functions take no undefined inputs).
  if (!w.defined()) {
    w = at::ones({x.size(1)}, x.options());
    b = at::zeros({x.size(1)}, x.options());
  }
  if (w.defined() && (w.numel() != x.size(1) || b.numel() != x.size(1)))
    throw std::invalid_argument("instance_norm_leaky_relu: weight and bias need " + std::to_string(x.size(1)) + " values");
  // Affine parameters in the activation's dtype (bf16 under autocast); autograd casts the grads back.
  if (w.defined() && w.scalar_type() != x.scalar_type()) {
    w = w.to(x.scalar_type());
    b = b.to(x.scalar_type());
  }
  return InstanceNormLeaky::apply(x, w, b, eps, slope);
}

}  // namespace

void registerFusedOps(Registry& r) {
  // instance_norm_leaky_relu(x, weight?, bias?, eps, slope)
  MEDSEG_OP(r, "instance_norm_leaky_relu", instanceNormLeaky(a.T(0), a.OT(1), a.OT(2), a.D(3), a.D(4)));
}

}  // namespace medseg
