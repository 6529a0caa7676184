// Reference kernels of the detection ops:
//  - RoiAlign: each output bin averages (or takes the max of) a grid of
//    bilinear samples, with the sampling grid and the corner handling of
//    ONNX's reference (itself the Detectron / onnxruntime algorithm);
//  - MaxRoiPool: Caffe's max ROI pooling over integer bins;
//  - NonMaxSuppression: per batch and class, greedy selection by descending
//    score (ties: lower box index first), dropping boxes whose IoU with an
//    already selected one exceeds the threshold.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "backends/cpu/misc_kernel_util.h"

namespace frt {
namespace {

// Largest sampling grid per bin side accepted from hostile rois / attributes.
constexpr double kMaxSamplesPerSide = 1 << 16;

Status CheckBatchIndex(const KernelContext& ctx, int64_t b, int64_t batch) {
  if (b < 0 || b >= batch) {
    return ctx.Error(StatusCode::kOutOfRange, "roi batch index ", b, " is outside [0, ", batch,
                     ")");
  }
  return Status::Ok();
}

// The four weighted taps of one bilinear sample (all zero outside the map).
struct Sample {
  int64_t pos[4] = {0, 0, 0, 0};
  double w[4] = {0, 0, 0, 0};
};

Sample BilinearSample(double y, double x, int64_t height, int64_t width) {
  Sample s;
  // Outside the map (or NaN): the sample reads nothing.
  if (!(y >= -1.0 && y <= static_cast<double>(height) && x >= -1.0 &&
        x <= static_cast<double>(width))) {
    return s;
  }
  y = std::max(y, 0.0);
  x = std::max(x, 0.0);
  int64_t y_low = static_cast<int64_t>(y), x_low = static_cast<int64_t>(x);
  int64_t y_high = y_low + 1, x_high = x_low + 1;
  if (y_low >= height - 1) {
    y_high = y_low = height - 1;
    y = static_cast<double>(y_low);
  }
  if (x_low >= width - 1) {
    x_high = x_low = width - 1;
    x = static_cast<double>(x_low);
  }
  const double ly = y - static_cast<double>(y_low), lx = x - static_cast<double>(x_low);
  const double hy = 1.0 - ly, hx = 1.0 - lx;
  s.pos[0] = y_low * width + x_low;
  s.pos[1] = y_low * width + x_high;
  s.pos[2] = y_high * width + x_low;
  s.pos[3] = y_high * width + x_high;
  s.w[0] = hy * hx;
  s.w[1] = hy * lx;
  s.w[2] = ly * hx;
  s.w[3] = ly * lx;
  return s;
}

Status RoiAlignKernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& rois_t = ctx.input(1);
  Tensor& out = ctx.output(0);
  const int64_t batch = x.dims()[0], channels = x.dims()[1];
  const int64_t height = x.dims()[2], width = x.dims()[3];
  const int64_t num_rois = rois_t.dims()[0];
  const Attributes& at = ctx.attrs();
  const bool avg = at.GetString("mode", "avg") == "avg";
  const bool half_pixel =
      at.GetString("coordinate_transformation_mode", "half_pixel") == "half_pixel";
  const int64_t oh = at.GetInt("output_height", 1), ow = at.GetInt("output_width", 1);
  const int64_t ratio = at.GetInt("sampling_ratio", 0);
  const double scale = at.GetFloat("spatial_scale", 1.0f);
  FRT_ASSIGN_OR_RETURN(std::vector<int64_t> batch_idx, ctx.input(2).ToInt64Vector());
  if (static_cast<int64_t>(batch_idx.size()) != num_rois) {
    return ctx.Error(StatusCode::kInvalidModel, "batch_indices has ", batch_idx.size(),
                     " values but there are ", num_rois, " rois");
  }
  if (out.num_elements() > 0 && (height == 0 || width == 0)) {
    return ctx.Error(StatusCode::kInvalidModel, "X ", DimsToString(x.dims()),
                     " has an empty feature map to sample from");
  }
  const std::vector<double> xv = ToDoubles(x), rv = ToDoubles(rois_t);
  std::vector<double> yv(static_cast<size_t>(out.num_elements()), 0.0);
  for (int64_t n = 0; n < num_rois; ++n) {
    FRT_RETURN_IF_ERROR(CheckBatchIndex(ctx, batch_idx[n], batch));
    // rois are [x1, y1, x2, y2]; half_pixel shifts them onto pixel centers.
    const double offset = half_pixel ? 0.5 : 0.0;
    const double start_w = rv[n * 4 + 0] * scale - offset;
    const double start_h = rv[n * 4 + 1] * scale - offset;
    double roi_w = rv[n * 4 + 2] * scale - offset - start_w;
    double roi_h = rv[n * 4 + 3] * scale - offset - start_h;
    if (!half_pixel) {  // malformed rois become 1x1
      roi_w = std::max(roi_w, 1.0);
      roi_h = std::max(roi_h, 1.0);
    }
    if (!std::isfinite(start_w) || !std::isfinite(start_h) || !std::isfinite(roi_w) ||
        !std::isfinite(roi_h)) {
      return ctx.Error(StatusCode::kOutOfRange, "roi ", n, " has non-finite coordinates");
    }
    const double bin_h = roi_h / static_cast<double>(oh), bin_w = roi_w / static_cast<double>(ow);
    const double grid_hd = ratio > 0 ? static_cast<double>(ratio) : std::ceil(bin_h);
    const double grid_wd = ratio > 0 ? static_cast<double>(ratio) : std::ceil(bin_w);
    if (!(grid_hd <= kMaxSamplesPerSide && grid_wd <= kMaxSamplesPerSide)) {
      return ctx.Error(StatusCode::kOutOfRange, "roi ", n, " needs a ", grid_hd, "x", grid_wd,
                       " sampling grid per bin, above the limit of ", kMaxSamplesPerSide);
    }
    const int64_t grid_h = std::max<int64_t>(static_cast<int64_t>(grid_hd), 0);
    const int64_t grid_w = std::max<int64_t>(static_cast<int64_t>(grid_wd), 0);
    const double count = static_cast<double>(std::max<int64_t>(grid_h * grid_w, 1));
    for (int64_t ph = 0; ph < oh; ++ph) {
      for (int64_t pw = 0; pw < ow; ++pw) {
        std::vector<Sample> samples;
        for (int64_t iy = 0; iy < grid_h; ++iy) {
          const double y = start_h + static_cast<double>(ph) * bin_h +
                           (static_cast<double>(iy) + 0.5) * bin_h / static_cast<double>(grid_h);
          for (int64_t ix = 0; ix < grid_w; ++ix) {
            const double xx = start_w + static_cast<double>(pw) * bin_w +
                              (static_cast<double>(ix) + 0.5) * bin_w / static_cast<double>(grid_w);
            samples.push_back(BilinearSample(y, xx, height, width));
          }
        }
        for (int64_t c = 0; c < channels; ++c) {
          const double* plane = xv.data() + (batch_idx[n] * channels + c) * height * width;
          double v = 0.0;
          bool first = true;
          for (const Sample& s : samples) {
            if (avg) {
              for (int k = 0; k < 4; ++k) v += s.w[k] * plane[s.pos[k]];
            } else {
              // Max mode keeps the largest weighted tap, as the reference does.
              double m = s.w[0] * plane[s.pos[0]];
              for (int k = 1; k < 4; ++k) m = std::max(m, s.w[k] * plane[s.pos[k]]);
              v = first ? m : std::max(v, m);
              first = false;
            }
          }
          if (avg) v /= count;
          yv[((n * channels + c) * oh + ph) * ow + pw] = v;
        }
      }
    }
  }
  MiscStoreSaturated(out, yv);
  return Status::Ok();
}

Status MaxRoiPoolKernel(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  Tensor& out = ctx.output(0);
  const int64_t batch = x.dims()[0], channels = x.dims()[1];
  const int64_t height = x.dims()[2], width = x.dims()[3];
  const int64_t num_rois = ctx.input(1).dims()[0];
  const std::vector<int64_t> pooled = ctx.attrs().GetInts("pooled_shape");
  const int64_t ph_n = pooled[0], pw_n = pooled[1];
  const double scale = ctx.attrs().GetFloat("spatial_scale", 1.0f);
  const std::vector<double> xv = ToDoubles(x), rv = ToDoubles(ctx.input(1));
  std::vector<double> yv(static_cast<size_t>(out.num_elements()), 0.0);
  // Rounded roi corners; clamped far outside so that int64 conversions stay defined.
  auto corner = [&](double v) {
    double r = std::round(v * scale);
    if (!(r >= -1e15)) r = -1e15;  // also catches NaN (a NaN spatial_scale)
    if (!(r <= 1e15)) r = 1e15;
    return static_cast<int64_t>(r);
  };
  for (int64_t n = 0; n < num_rois; ++n) {
    const double* roi = rv.data() + n * 5;  // [batch_id, x1, y1, x2, y2]
    for (int k = 0; k < 5; ++k) {
      if (!std::isfinite(roi[k])) {
        return ctx.Error(StatusCode::kOutOfRange, "roi ", n, " has non-finite values");
      }
    }
    const int64_t b = static_cast<int64_t>(std::clamp(roi[0], -1.0, 1e15));
    FRT_RETURN_IF_ERROR(CheckBatchIndex(ctx, b, batch));
    const int64_t x1 = corner(roi[1]), y1 = corner(roi[2]);
    const int64_t x2 = corner(roi[3]), y2 = corner(roi[4]);
    const double bin_h = static_cast<double>(std::max<int64_t>(y2 - y1 + 1, 1)) / ph_n;
    const double bin_w = static_cast<double>(std::max<int64_t>(x2 - x1 + 1, 1)) / pw_n;
    for (int64_t ph = 0; ph < ph_n; ++ph) {
      for (int64_t pw = 0; pw < pw_n; ++pw) {
        auto bound = [](double v, int64_t start, int64_t limit) {
          return std::clamp<int64_t>(static_cast<int64_t>(v) + start, 0, limit);
        };
        const int64_t hs = bound(std::floor(ph * bin_h), y1, height);
        const int64_t he = bound(std::ceil((ph + 1) * bin_h), y1, height);
        const int64_t ws = bound(std::floor(pw * bin_w), x1, width);
        const int64_t we = bound(std::ceil((pw + 1) * bin_w), x1, width);
        for (int64_t c = 0; c < channels; ++c) {
          const double* plane = xv.data() + (b * channels + c) * height * width;
          double v = 0.0;  // an empty bin outputs 0
          for (int64_t h = hs; h < he; ++h) {
            for (int64_t w = ws; w < we; ++w) {
              v = (h == hs && w == ws) ? plane[h * width + w] : std::max(v, plane[h * width + w]);
            }
          }
          yv[((n * channels + c) * ph_n + ph) * pw_n + pw] = v;
        }
      }
    }
  }
  MiscStoreSaturated(out, yv);
  return Status::Ok();
}

// Intersection over union of two boxes above `threshold`, with the early
// exits of ONNX's reference (empty intersections and degenerate boxes never suppress).
bool Suppresses(const double* a, const double* b, bool center, double threshold) {
  double ax0, ax1, ay0, ay1, bx0, bx1, by0, by1;
  if (center) {  // [x_center, y_center, width, height]
    ax0 = a[0] - a[2] / 2, ax1 = a[0] + a[2] / 2, ay0 = a[1] - a[3] / 2, ay1 = a[1] + a[3] / 2;
    bx0 = b[0] - b[2] / 2, bx1 = b[0] + b[2] / 2, by0 = b[1] - b[3] / 2, by1 = b[1] + b[3] / 2;
  } else {  // [y1, x1, y2, x2], corners in any order
    ax0 = std::min(a[1], a[3]), ax1 = std::max(a[1], a[3]);
    ay0 = std::min(a[0], a[2]), ay1 = std::max(a[0], a[2]);
    bx0 = std::min(b[1], b[3]), bx1 = std::max(b[1], b[3]);
    by0 = std::min(b[0], b[2]), by1 = std::max(b[0], b[2]);
  }
  const double ix0 = std::max(ax0, bx0), ix1 = std::min(ax1, bx1);
  if (ix1 <= ix0) return false;
  const double iy0 = std::max(ay0, by0), iy1 = std::min(ay1, by1);
  if (iy1 <= iy0) return false;
  const double inter = (ix1 - ix0) * (iy1 - iy0);
  const double area_a = (ax1 - ax0) * (ay1 - ay0), area_b = (bx1 - bx0) * (by1 - by0);
  const double uni = area_a + area_b - inter;
  if (inter <= 0 || area_a <= 0 || area_b <= 0 || uni <= 0) return false;
  return inter / uni > threshold;
}

Status NonMaxSuppressionKernel(KernelContext& ctx) {
  const Tensor& boxes_t = ctx.input(0);
  const Tensor& scores_t = ctx.input(1);
  const int64_t batch = boxes_t.dims()[0], spatial = boxes_t.dims()[1];
  const int64_t classes = scores_t.dims()[1];
  if (boxes_t.dims()[2] != 4 || scores_t.dims()[0] != batch || scores_t.dims()[2] != spatial) {
    return ctx.Error(StatusCode::kInvalidModel, "boxes ", DimsToString(boxes_t.dims()),
                     " and scores ", DimsToString(scores_t.dims()),
                     " must be [batch, spatial, 4] and [batch, classes, spatial]");
  }
  auto scalar = [&](size_t i) -> const Tensor* {
    return ctx.has_input(i) && ctx.input(i).num_elements() > 0 ? &ctx.input(i) : nullptr;
  };
  int64_t max_out = 0;
  if (const Tensor* t = scalar(2)) {
    FRT_ASSIGN_OR_RETURN(std::vector<int64_t> v, t->ToInt64Vector());
    max_out = std::max<int64_t>(v[0], 0);
  }
  const double iou = scalar(3) ? scalar(3)->GetAsDouble(0) : 0.0;
  if (!(iou >= 0.0 && iou <= 1.0)) {
    return ctx.Error(StatusCode::kInvalidModel, "iou_threshold is ", iou, " but must be in [0, 1]");
  }
  const bool has_score_threshold = scalar(4) != nullptr;
  const double score_threshold = has_score_threshold ? scalar(4)->GetAsDouble(0) : 0.0;
  const bool center = ctx.attrs().GetInt("center_point_box", 0) == 1;
  const std::vector<double> boxes = ToDoubles(boxes_t), scores = ToDoubles(scores_t);
  std::vector<int64_t> selected;  // triples (batch, class, box)
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t c = 0; c < classes; ++c) {
      const double* s = scores.data() + (b * classes + c) * spatial;
      std::vector<int64_t> order;
      for (int64_t i = 0; i < spatial; ++i) {
        if (!has_score_threshold || s[i] > score_threshold) order.push_back(i);
      }
      std::stable_sort(order.begin(), order.end(),
                       [&](int64_t l, int64_t r) { return s[l] > s[r]; });
      std::vector<int64_t> kept;
      for (int64_t i : order) {
        if (static_cast<int64_t>(kept.size()) >= max_out) break;
        bool keep = true;
        for (int64_t k : kept) {
          if (Suppresses(boxes.data() + (b * spatial + i) * 4, boxes.data() + (b * spatial + k) * 4,
                         center, iou)) {
            keep = false;
            break;
          }
        }
        if (!keep) continue;
        kept.push_back(i);
        selected.insert(selected.end(), {b, c, i});
      }
    }
  }
  const int64_t n = static_cast<int64_t>(selected.size() / 3);
  FRT_ASSIGN_OR_RETURN(Tensor * out, ctx.AllocateOutput(0, DType::kInt64, {n, 3}));
  std::copy(selected.begin(), selected.end(), out->data<int64_t>());
  return Status::Ok();
}

}  // namespace

void RegisterMiscDetectionKernels(CpuKernelRegistry& r) {
  r.Register(OpKind::kRoiAlign, RoiAlignKernel);
  r.Register(OpKind::kMaxRoiPool, MaxRoiPoolKernel);
  r.Register(OpKind::kNonMaxSuppression, NonMaxSuppressionKernel);
}

}  // namespace frt
