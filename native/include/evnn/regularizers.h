// Regularisers on a layer's taps (EvNN's sMNIST activity and voltage terms), each returning its
// value and adding its gradient into dx (+=), so several terms on one tap combine.
#pragma once
#include <cstddef>

#include "evnn/context.h"

namespace evnn {
namespace regularizers {

// constant · (mean(x) − target)²; dL/dx_i = 2 · constant · (mean(x) − target) / n.
double MeanTarget(const Context& ctx, const float* x, size_t n, double constant, double target, float* dx);

// constant · mean((x − target)²); dL/dx_i = 2 · constant · (x_i − target) / n.
double MeanSquare(const Context& ctx, const float* x, size_t n, double constant, double target, float* dx);

}  // namespace regularizers
}  // namespace evnn
