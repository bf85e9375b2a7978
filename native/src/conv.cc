// Convolutions, routed around the slow CPU paths of libtorch 1.13:
//  - fp32 conv with batch 1 and a small N*C*D*H falls to a vol2col path (3-5 GFLOP/s) by ATen's
//    backend heuristic; without autograd we call oneDNN (mkldnn_convolution) directly.
//  - ConvTranspose has no oneDNN path at all in 1.13 on CPU. A transposed convolution is the
//    input-gradient of an ordinary convolution with the same weight layout, which
//    convolution_backward computes with oneDNN (~130 GFLOP/s measured), so we compute it that way
//    inside our own autograd function, whose backward is again ordinary oneDNN convolutions.
// Libtorch 2.x (and CUDA) use ATen's own choice.
#include "common.h"

#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/custom_function.h>

namespace medseg {

namespace {
at::ScalarType g_autocast = at::kFloat;

bool onLegacyCpu(const at::Tensor& x) {
#if TORCH_VERSION_MAJOR < 2
  return x.is_cpu() && at::hasMKLDNN();
#else
  (void)x;
  return false;
#endif
}

std::vector<int64_t> expand(const std::vector<int64_t>& v, int64_t n, const char* what) {
  if (static_cast<int64_t>(v.size()) == n) return v;
  if (v.size() == 1) return std::vector<int64_t>(n, v[0]);
  throw std::invalid_argument(std::string(what) + " needs 1 or " + std::to_string(n) + " values");
}

// ATen 1.13's condition for preferring its native (slow) fp32 kernel over oneDNN.
bool atenWouldAvoidMkldnn(const at::Tensor& x, const at::Tensor& w, int64_t groups) {
  if (x.scalar_type() != at::kFloat || x.dim() < 4) return false;
  bool bigKernel = w.size(-1) > 3 && w.size(-2) > 3;
  int64_t ncdh = x.size(0) * x.size(1) * x.size(2) * x.size(3);
  return !(groups > 1 || bigKernel || x.size(0) > 1 || ncdh > 20480);
}

// Libtorch 2.x on CPU (seen with Debian 13's libtorch 2.6 and its oneDNN 3.7 on an AVX-512 CPU):
// when a channel count is not a multiple of oneDNN's block of 16, kernels read the padding lanes
// of their blocked buffers, which nobody zeroed. Measured: fp32 conv input-gradients wrong or NaN
// (batch 2, 8 channels); bf16 convs and transposed convs with 4 or 8 output channels wrong (35% off).
// Zero-padding those channels to whole blocks ourselves leaves oneDNN no padding lanes; autograd
// slices the gradients back. Only the affected layers pay: input channels when the backward-data
// kernel runs (a conv whose input needs a gradient, any transposed conv), output channels then or
// in bf16/fp16. Never a U-Net's first conv in fp32, never a layer whose channels are multiples of 16.
struct ChannelPadding {
  int64_t in = 0, out = 0;  // channels to pad to (0: leave as is)
};

ChannelPadding channelPadding(const at::Tensor& x, int64_t cin, int64_t cout, int64_t groups, bool backwardDataRuns) {
  ChannelPadding p;
#if TORCH_VERSION_MAJOR >= 2
  static const bool disabled = std::getenv("MEDSEG_NO_CHANNEL_PADDING") != nullptr;  // to reproduce the bugs
  if (!x.is_cpu() || groups != 1 || disabled) return p;
  const bool reduced = x.scalar_type() == at::kBFloat16 || x.scalar_type() == at::kHalf;
  auto roundUp16 = [](int64_t c) { return (c + 15) / 16 * 16; };
  if (cin % 16 != 0 && backwardDataRuns) p.in = roundUp16(cin);
  if (cout % 16 != 0 && (backwardDataRuns || reduced)) p.out = roundUp16(cout);
#else
  (void)x, (void)cin, (void)cout, (void)groups, (void)backwardDataRuns;
#endif
  return p;
}

// Zero-pads dim `d` of t to `size` (no-op when size is 0 or already reached).
at::Tensor padDim(const at::Tensor& t, int64_t d, int64_t size) {
  if (size == 0 || t.size(d) == size) return t;
  std::vector<int64_t> pad(2 * static_cast<size_t>(t.dim() - d), 0);
  pad.back() = size - t.size(d);
  return at::constant_pad_nd(t, pad, 0);
}

// conv or transposed conv with the channels padded as `p` says, the output sliced back.
at::Tensor paddedConvolution(const at::Tensor& x, const at::Tensor& w, const c10::optional<at::Tensor>& b,
                             const ChannelPadding& p, const std::vector<int64_t>& stride,
                             const std::vector<int64_t>& padding, const std::vector<int64_t>& dilation, bool transposed,
                             const std::vector<int64_t>& outPad, int64_t groups) {
  // weights: [out, in, k...] for a conv, [in, out, k...] for a transposed conv
  const int64_t inDim = transposed ? 0 : 1, outDim = transposed ? 1 : 0;
  const int64_t cout = w.size(outDim);
  at::Tensor wp = padDim(padDim(w, inDim, p.in), outDim, p.out);
  c10::optional<at::Tensor> bp = b ? c10::optional<at::Tensor>(padDim(*b, 0, p.out)) : c10::nullopt;
  at::Tensor y = at::convolution(padDim(x, 1, p.in), wp, bp, stride, padding, dilation, transposed, outPad, groups);
  return y.size(1) == cout ? y : y.narrow(1, 0, cout).contiguous();
}

at::Tensor convForward(const at::Tensor& x0, const at::Tensor& w0, const c10::optional<at::Tensor>& b0,
                       const std::vector<int64_t>& stride, const std::vector<int64_t>& padding,
                       const std::vector<int64_t>& dilation, int64_t groups) {
  at::Tensor x = autocastArg(x0), w = autocastArg(w0);
  c10::optional<at::Tensor> b = b0 ? c10::optional<at::Tensor>(autocastArg(*b0)) : c10::nullopt;
  if (x.scalar_type() != w.scalar_type()) w = w.to(x.scalar_type());
  if (b && b->scalar_type() != x.scalar_type()) b = b->to(x.scalar_type());
  // A 1×1 convolution is a matmul over the channels; ATen's conv path pays two full layout
  // reorders for it (seg heads at full resolution cost more than the 3×3 convs before them).
  bool pointwise = groups == 1 && w.dim() == x.dim();
  for (int64_t d = 2; pointwise && d < w.dim(); ++d)
    pointwise = w.size(d) == 1 && stride[d - 2] == 1 && padding[d - 2] == 0;
  if (pointwise && x.size(1) == w.size(1)) {
    const int64_t n = x.size(0), cin = x.size(1), cout = w.size(0);
    std::vector<int64_t> outShape(x.sizes().begin(), x.sizes().end());
    outShape[1] = cout;
    // bmm over an expanded weight: ATen's broadcasting matmul takes a path ~10x slower here.
    at::Tensor y = at::bmm(w.view({1, cout, cin}).expand({n, cout, cin}), x.reshape({n, cin, -1}));
    if (b) y = y + b->view({1, cout, 1});
    return y.view(outShape);
  }
  bool needsGrad = c10::GradMode::is_enabled() && (x.requires_grad() || w.requires_grad() || (b && b->requires_grad()));
  if (onLegacyCpu(x) && !needsGrad && atenWouldAvoidMkldnn(x, w, groups)) {
    return at::mkldnn_convolution(x.contiguous(), w.contiguous(), b, padding, stride, dilation, groups);
  }
  std::vector<int64_t> outPad(stride.size(), 0);
  ChannelPadding cp = channelPadding(x, w.size(1), w.size(0), groups, needsGrad && x.requires_grad());
  if (cp.in || cp.out) return paddedConvolution(x, w, b, cp, stride, padding, dilation, false, outPad, groups);
  return at::convolution(x, w, b, stride, padding, dilation, false, outPad, groups);
}

std::vector<int64_t> transposedOutShape(const at::Tensor& x, const at::Tensor& w, const std::vector<int64_t>& stride,
                                        const std::vector<int64_t>& padding, const std::vector<int64_t>& outPad,
                                        const std::vector<int64_t>& dilation, int64_t groups) {
  std::vector<int64_t> s{x.size(0), w.size(1) * groups};
  for (size_t i = 0; i < stride.size(); ++i) {
    int64_t in = x.size(static_cast<int64_t>(i) + 2), k = w.size(static_cast<int64_t>(i) + 2);
    s.push_back((in - 1) * stride[i] - 2 * padding[i] + dilation[i] * (k - 1) + outPad[i] + 1);
  }
  return s;
}

// y = conv_transpose(x, w) computed as d(conv(y', w))/dy' applied to x.
struct TransposedConv : public torch::autograd::Function<TransposedConv> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, const at::Tensor& w,
                            std::vector<int64_t> stride, std::vector<int64_t> padding,
                            std::vector<int64_t> outPad, std::vector<int64_t> dilation, int64_t groups) {
    ctx->save_for_backward({x, w});
    ctx->saved_data["stride"] = stride;
    ctx->saved_data["padding"] = padding;
    ctx->saved_data["dilation"] = dilation;
    ctx->saved_data["groups"] = groups;
    auto outShape = transposedOutShape(x, w, stride, padding, outPad, dilation, groups);
    // convolution_backward reads only the shape, dtype and layout of `input`; empty() is never touched.
    at::Tensor shapeOnly = at::empty(outShape, x.options());
    at::Tensor xc = x.contiguous(), wc = w.contiguous();
    auto grads = at::convolution_backward(xc, shapeOnly, wc, c10::nullopt, stride, padding, dilation, false,
                                          std::vector<int64_t>(stride.size(), 0), groups, {true, false, false});
    return std::get<0>(grads);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list gradOut) {
    auto saved = ctx->get_saved_variables();
    const at::Tensor& x = saved[0];
    const at::Tensor& w = saved[1];
    auto stride = ctx->saved_data["stride"].toIntVector();
    auto padding = ctx->saved_data["padding"].toIntVector();
    auto dilation = ctx->saved_data["dilation"].toIntVector();
    int64_t groups = ctx->saved_data["groups"].toInt();
    at::Tensor gy = gradOut[0].contiguous();
    // The transposed conv maps x-space to y-space by A^T, so dL/dx = A gy: an ordinary convolution,
    // and dL/dw is the weight-gradient of that convolution with gy as its input and x as its output grad.
    at::Tensor gx, gw;
    bool needX = ctx->needs_input_grad(0), needW = ctx->needs_input_grad(1);
    if (needX) {
      gx = at::convolution(gy, w, c10::nullopt, stride, padding, dilation, false, std::vector<int64_t>(stride.size(), 0),
                           groups);
    }
    if (needW) {
      auto g = at::convolution_backward(x.contiguous(), gy, w, c10::nullopt, stride, padding, dilation, false,
                                        std::vector<int64_t>(stride.size(), 0), groups, {false, true, false});
      gw = std::get<1>(g);
    }
    return {gx, gw, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

at::Tensor convTransposeForward(const at::Tensor& x0, const at::Tensor& w0, const c10::optional<at::Tensor>& b0,
                                const std::vector<int64_t>& stride, const std::vector<int64_t>& padding,
                                const std::vector<int64_t>& outPad, const std::vector<int64_t>& dilation,
                                int64_t groups) {
  at::Tensor x = autocastArg(x0), w = autocastArg(w0);
  at::Tensor b = b0 ? autocastArg(*b0) : at::Tensor();
  if (w.scalar_type() != x.scalar_type()) w = w.to(x.scalar_type());
  if (b.defined() && b.scalar_type() != x.scalar_type()) b = b.to(x.scalar_type());
  if (x.dim() != w.dim())
    throw std::invalid_argument("conv_transpose: input and weight need the same number of dims");
  if (x.size(1) != w.size(0))
    throw std::invalid_argument("conv_transpose: input has " + std::to_string(x.size(1)) +
                                " channels, weight expects " + std::to_string(w.size(0)));
  if (onLegacyCpu(x)) {
    bool outPadFits = true;
    for (size_t i = 0; i < outPad.size(); ++i) outPadFits = outPadFits && outPad[i] < std::max(stride[i], dilation[i]);
    if (!outPadFits) throw std::invalid_argument("conv_transpose: output padding must be smaller than stride or dilation");
    at::Tensor y = TransposedConv::apply(x, w, stride, padding, outPad, dilation, groups);
    if (!b.defined()) return y;
    std::vector<int64_t> bshape(y.dim(), 1);
    bshape[1] = -1;
    return y + b.view(bshape);
  }
  c10::optional<at::Tensor> bias = b.defined() ? c10::optional<at::Tensor>(b) : c10::nullopt;
  ChannelPadding cp = channelPadding(x, w.size(0), w.size(1), groups, true);
  if (cp.in || cp.out) return paddedConvolution(x, w, bias, cp, stride, padding, dilation, true, outPad, groups);
  return at::convolution(x, w, bias, stride, padding, dilation, true, outPad, groups);
}
}  // namespace

at::ScalarType autocastDtype() { return g_autocast; }

void setAutocastDtype(at::ScalarType t) {
  if (t != at::kFloat && t != at::kBFloat16 && t != at::kHalf)
    throw std::invalid_argument("autocast dtype must be float32 (off), bfloat16 or float16");
  g_autocast = t;
}

at::Tensor autocastArg(const at::Tensor& t) {
  if (g_autocast == at::kFloat || t.scalar_type() != at::kFloat) return t;
  return t.to(g_autocast);
}

void registerConvOps(Registry& r) {
  // conv(x, w, bias?, stride, padding, dilation, groups) for 1D/2D/3D by the weight's rank.
  r["conv"] = [](Args& a) -> Napi::Value {
    const at::Tensor& w = a.T(1);
    int64_t sd = w.dim() - 2;
    if (sd < 1 || sd > 3) throw std::invalid_argument("conv: weight must have 3 to 5 dims");
    if (a.T(0).dim() != w.dim())
      throw std::invalid_argument("conv: input must be [N, C, spatial...] with " + std::to_string(sd) + " spatial dims");
    return toJs(a.env(), convForward(a.T(0), w, a.OT(2), expand(a.Ints(3), sd, "stride"),
                                     expand(a.Ints(4), sd, "padding"), expand(a.Ints(5), sd, "dilation"), a.I(6)));
  };
  // conv_transpose(x, w, bias?, stride, padding, outputPadding, dilation, groups)
  r["conv_transpose"] = [](Args& a) -> Napi::Value {
    const at::Tensor& w = a.T(1);
    int64_t sd = w.dim() - 2;
    if (sd < 1 || sd > 3) throw std::invalid_argument("conv_transpose: weight must have 3 to 5 dims");
    return toJs(a.env(), convTransposeForward(a.T(0), w, a.OT(2), expand(a.Ints(3), sd, "stride"),
                                              expand(a.Ints(4), sd, "padding"), expand(a.Ints(5), sd, "output padding"),
                                              expand(a.Ints(6), sd, "dilation"), a.I(7)));
  };
}

}  // namespace medseg
