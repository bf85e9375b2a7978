// Neural-network ops: activations, normalisation, pooling, resampling, padding and losses.
#include "common.h"

namespace medseg {

// reduction names of the losses: 'none' | 'mean' | 'sum'
static int64_t reduction(const std::string& s) {
  if (s == "none") return at::Reduction::None;
  if (s == "mean") return at::Reduction::Mean;
  if (s == "sum") return at::Reduction::Sum;
  throw std::invalid_argument("reduction must be none, mean or sum, got '" + s + "'");
}

static at::Tensor interpolate(const at::Tensor& x, const std::vector<int64_t>& size, const std::string& mode,
                              bool alignCorners) {
  const int64_t sd = x.dim() - 2;
  if (static_cast<int64_t>(size.size()) != sd)
    throw std::invalid_argument("interpolate: size has " + std::to_string(size.size()) + " entries for " +
                                std::to_string(sd) + " spatial dims");
  if (mode == "nearest") {
    if (sd == 3) return at::upsample_nearest3d(x, size);
    if (sd == 2) return at::upsample_nearest2d(x, size);
    if (sd == 1) return at::upsample_nearest1d(x, size);
  } else if (mode == "linear" || mode == "trilinear" || mode == "bilinear") {
    if (sd == 3) return at::upsample_trilinear3d(x, size, alignCorners);
    if (sd == 2) return at::upsample_bilinear2d(x, size, alignCorners);
    if (sd == 1) return at::upsample_linear1d(x, size, alignCorners);
  } else if (mode == "bicubic" && sd == 2) {
    return at::upsample_bicubic2d(x, size, alignCorners);
  }
  throw std::invalid_argument("interpolate: unsupported mode '" + mode + "' for " + std::to_string(sd) + "D");
}

static at::Tensor pad(const at::Tensor& x, const std::vector<int64_t>& p, const std::string& mode, double value) {
  if (mode == "constant") return at::constant_pad_nd(x, p, value);
  const size_t sd = p.size() / 2;
  if (mode == "reflect") {
    if (sd == 3) return at::reflection_pad3d(x, p);
    if (sd == 2) return at::reflection_pad2d(x, p);
    if (sd == 1) return at::reflection_pad1d(x, p);
  }
  if (mode == "replicate") {
    if (sd == 3) return at::replication_pad3d(x, p);
    if (sd == 2) return at::replication_pad2d(x, p);
    if (sd == 1) return at::replication_pad1d(x, p);
  }
  throw std::invalid_argument("pad: unsupported mode '" + mode + "' for " + std::to_string(sd) + " padded dims");
}

void registerNnOps(Registry& r) {
  // ---- activations ----
  MEDSEG_OP(r, "relu", at::relu(a.T(0)));
  MEDSEG_OP(r, "leaky_relu", at::leaky_relu(a.T(0), a.Sc(1)));
  MEDSEG_OP(r, "leaky_relu_", at::leaky_relu_(const_cast<at::Tensor&>(a.T(0)), a.Sc(1)));
  MEDSEG_OP(r, "sigmoid", at::sigmoid(a.T(0)));
  MEDSEG_OP(r, "tanh", at::tanh(a.T(0)));
  MEDSEG_OP(r, "gelu", at::gelu(a.T(0)));
  MEDSEG_OP(r, "elu", at::elu(a.T(0)));
  MEDSEG_OP(r, "softplus", at::softplus(a.T(0)));
  MEDSEG_OP(r, "softmax", at::softmax(a.T(0), a.I(1)));
  MEDSEG_OP(r, "log_softmax", at::log_softmax(a.T(0), a.I(1)));
  MEDSEG_OP(r, "dropout", at::dropout(a.T(0), a.D(1), a.B(2)));

  // ---- normalisation (weight, bias, running stats optional) ----
  // instance_norm(x, weight?, bias?, eps)
  MEDSEG_OP(r, "instance_norm",
            at::instance_norm(a.T(0), a.OT(1), a.OT(2), c10::nullopt, c10::nullopt, true, 0.1, a.D(3), true));
  // batch_norm(x, weight?, bias?, runningMean?, runningVar?, training, momentum, eps)
  MEDSEG_OP(r, "batch_norm", at::batch_norm(a.T(0), a.OT(1), a.OT(2), a.OT(3), a.OT(4), a.B(5), a.D(6), a.D(7), true));
  // group_norm(x, groups, weight?, bias?, eps)
  MEDSEG_OP(r, "group_norm", at::group_norm(a.T(0), a.I(1), a.OT(2), a.OT(3), a.D(4), true));
  MEDSEG_OP(r, "layer_norm", at::layer_norm(a.T(0), a.Ints(1), a.OT(2), a.OT(3), a.D(4), true));

  // ---- pooling: (x, kernel, stride, padding) ----
  MEDSEG_OP(r, "max_pool3d", at::max_pool3d(a.T(0), a.Ints(1), a.Ints(2), a.Ints(3)));
  MEDSEG_OP(r, "max_pool2d", at::max_pool2d(a.T(0), a.Ints(1), a.Ints(2), a.Ints(3)));
  MEDSEG_OP(r, "avg_pool3d", at::avg_pool3d(a.T(0), a.Ints(1), a.Ints(2), a.Ints(3)));
  MEDSEG_OP(r, "avg_pool2d", at::avg_pool2d(a.T(0), a.Ints(1), a.Ints(2), a.Ints(3)));
  MEDSEG_OP(r, "adaptive_avg_pool3d", at::adaptive_avg_pool3d(a.T(0), a.Ints(1)));
  MEDSEG_OP(r, "adaptive_avg_pool2d", at::adaptive_avg_pool2d(a.T(0), a.Ints(1)));

  // ---- resampling ----
  MEDSEG_OP(r, "interpolate", interpolate(a.T(0), a.Ints(1), a.S(2), a.has(3) ? a.B(3) : false));
  // grid_sample(x, grid, mode 'bilinear'|'nearest', padding 'zeros'|'border'|'reflection', alignCorners)
  r["grid_sample"] = [](Args& a) -> Napi::Value {
    const std::string mode = a.S(2), padding = a.S(3);
    int64_t m = mode == "bilinear" || mode == "linear" ? 0 : mode == "nearest" ? 1 : mode == "bicubic" ? 2 : -1;
    int64_t p = padding == "zeros" ? 0 : padding == "border" ? 1 : padding == "reflection" ? 2 : -1;
    if (m < 0) throw std::invalid_argument("grid_sample: mode must be bilinear, nearest or bicubic");
    if (p < 0) throw std::invalid_argument("grid_sample: padding must be zeros, border or reflection");
    return toJs(a.env(), at::grid_sampler(a.T(0), a.T(1), m, p, a.B(4)));
  };
  MEDSEG_OP(r, "affine_grid", at::affine_grid_generator(a.T(0), a.Ints(1), a.B(2)));
  // pad(x, [last-dim before, after, next-to-last before, after, ...], mode, value)
  MEDSEG_OP(r, "pad", pad(a.T(0), a.Ints(1), a.S(2), a.has(3) ? a.Dx(3) : 0.0));

  // ---- losses ----
  // cross_entropy(logits [N,C,...], target [N,...] int64, weight?, reduction, ignoreIndex, labelSmoothing)
  MEDSEG_OP(r, "cross_entropy",
            at::cross_entropy_loss(a.T(0), a.T(1), a.OT(2), reduction(a.S(3)), a.has(4) ? a.I(4) : -100,
                                   a.has(5) ? a.D(5) : 0.0));
  MEDSEG_OP(r, "nll_loss", at::nll_loss_nd(a.T(0), a.T(1), a.OT(2), reduction(a.S(3)), a.has(4) ? a.I(4) : -100));
  MEDSEG_OP(r, "mse_loss", at::mse_loss(a.T(0), a.T(1), reduction(a.S(2))));
  MEDSEG_OP(r, "l1_loss", at::l1_loss(a.T(0), a.T(1), reduction(a.S(2))));
  MEDSEG_OP(r, "binary_cross_entropy_with_logits",
            at::binary_cross_entropy_with_logits(a.T(0), a.T(1), a.OT(2), c10::nullopt, reduction(a.S(3))));
  MEDSEG_OP(r, "one_hot", at::one_hot(a.T(0), a.I(1)));
}

}  // namespace medseg
