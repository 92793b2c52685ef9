#pragma once
#include <Eigen/Dense>

namespace dmacycle::analysis::detail {

// Minimizes ½ xᵀHx − gᵀx subject to x ≥ 0, with H symmetric positive definite: non-negative
// least squares in normal-equation form, by the Lawson–Hanson active-set method. Working on
// the small n×n system instead of the N×n kernel keeps each solve independent of the number of
// data points. `x` is the starting point (negative entries are clipped; a neighbouring
// problem's solution makes a good warm start) and receives the solution. Returns false when
// the iteration cap is hit; `x` is then feasible but not optimal.
bool solve_nnls_normal(const Eigen::MatrixXd& hessian, const Eigen::VectorXd& gradient_at_zero,
                       Eigen::VectorXd& x);

}  // namespace dmacycle::analysis::detail
