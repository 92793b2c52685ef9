#pragma once
// The spectrum's kernel and its normal equations (spectrum.cpp's solver, private to analysis).
#include <Eigen/Dense>
#include <cstddef>
#include <span>
#include <vector>

#include "nnls.hpp"

namespace dmacycle::analysis::detail {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

// exp() of anything below this is zero for our purposes; skipping it also avoids denormals.
constexpr double kExpCutoff = -700.0;

enum class ModeShape { decay, growth };

// One kernel column: scale·shape(elapsed·rate) − F·shift, with F the free columns. Shifting a
// column by free columns changes nothing but the free coefficients (corrected afterwards). The
// shift is chosen so that a column nearly constant (or, in creep, nearly linear) over the window
// is held as its small departure from that, which keeps the Gram matrix free of cancellation, and
// so that a column that dies out is exactly zero past its cutoff, where the Gram matrix skips it.
struct ModeColumn {
    double rate_per_s = 0;
    ModeShape shape = ModeShape::decay;
    double scale = 1;
    VectorXd shift;
    std::size_t live_rows = 0;  // zero from this row on
};
class Kernel {
  public:
    // spread_s (binned data, log_bins.hpp): each row is the mean of the column at elapsed ∓ spread.
    Kernel(std::span<const double> elapsed_s, MatrixXd free_columns,
           std::vector<ModeColumn> columns, std::span<const double> spread_s = {});

    Index points() const { return free_columns_.rows(); }
    Index modes() const { return static_cast<Index>(columns_.size()); }
    const MatrixXd& free_columns() const { return free_columns_; }

    // Column i over rows [first_row, first_row + out.size()).
    void fill(Index column, std::size_t first_row, Eigen::Ref<VectorXd> out) const;

    // Columns before this one are zero from `row` on (they die out in order of τ).
    Index first_live_column(std::size_t row) const {
        Index column = 0;
        while (column < modes() && columns_[static_cast<std::size_t>(column)].live_rows <= row) {
            ++column;
        }
        return column;
    }

    // The raw kernel is this one plus F·shifts.
    MatrixXd shifts() const {
        MatrixXd out(free_columns_.cols(), modes());
        for (Index i = 0; i < modes(); ++i) {
            out.col(i) = columns_[static_cast<std::size_t>(i)].shift;
        }
        return out;
    }

  private:
    std::span<const double> elapsed_s_;
    std::vector<double> block_steps_s_;
    std::vector<double> lower_s_, upper_s_;  // empty: no spread
    std::vector<double> lower_steps_s_, upper_steps_s_;
    MatrixXd free_columns_;
    std::vector<ModeColumn> columns_;
};

// Rows before this one are above the exp() cutoff for the given rate.
std::size_t rows_above_cutoff(std::span<const double> elapsed_s, double rate_per_s);

// The normal equations with the free (unregularized) columns F eliminated: on the complement of
// span(F) the problem is an NNLS problem in the amplitudes alone, and the free coefficients
// follow from the amplitudes. KᵀK, FᵀK and Kᵀy are accumulated over row chunks, so the N×n
// kernel is never stored, and each chunk skips the columns that have died out.
class NormalEquations {
  public:
    // data: divided by the strain scale s and centred (limits cancellation in yᵀy). Row j weighs
    // sqrt_weight(j)² (empty: every row 1); the sums are means over the total weight.
    NormalEquations(const Kernel& kernel, const VectorXd& data, const VectorXd& sqrt_weight);

    Index modes() const { return gram_.cols(); }
    Index rows() const { return rows_; }

    // log det(G + λI), G the Gram matrix below: the evidence's Occam factor (spectrum_lambda).
    double log_det_hessian(double lambda) const;
    // (G_F + λI)⁻¹ over the modes F with a > 0 (those at the bound a = 0 held there), zero
    // elsewhere: the amplitudes' posterior covariance over the noise's σ²/N.
    MatrixXd free_set_inverse(double lambda, const VectorXd& amplitude) const;
    // H⁻¹ G_F H⁻¹, H = G_F + λI, over the same modes: the sampling covariance of the amplitudes
    // at λ over the noise's σ²/N (the regularized estimate moves by this much with the noise).
    MatrixXd free_set_sandwich(double lambda, const VectorXd& amplitude) const;

    // Mean square residual at amplitudes a, from the Gram form (cheap: no pass over the data).
    double mean_square_residual(const VectorXd& amplitude) const {
        const double value =
            amplitude.dot(gram_ * amplitude) - 2.0 * rhs_.dot(amplitude) + data_mean_square_;
        return std::max(value, 0.0);
    }

    // Minimizes mean square residual + λ |a|² with a ≥ 0, warm-started from `amplitude`.
    bool solve(double lambda, VectorXd& amplitude) const {
        MatrixXd hessian = gram_;
        hessian.diagonal().array() += lambda;
        return detail::solve_nnls_normal(hessian, rhs_, amplitude);
    }

    // Least-squares coefficients of the free columns for the kernel as evaluated (shifted).
    VectorXd free_coefficients(const VectorXd& amplitude) const {
        return free_gram_.solve(free_times_data_ - free_times_kernel_ * amplitude);
    }

    // K a + F f, one pass per mode in use.
    VectorXd fitted(const VectorXd& amplitude) const;

  private:
    const Kernel& kernel_;
    MatrixXd free_times_kernel_;      // FᵀK
    VectorXd free_times_data_;        // Fᵀy
    Eigen::LLT<MatrixXd> free_gram_;  // FᵀF
    MatrixXd gram_;                   // K'ᵀK'/N, K' = K projected off span(F)
    VectorXd rhs_;                    // K'ᵀy/N
    double data_mean_square_ = 0;
    Index rows_ = 0;
};

}  // namespace dmacycle::analysis::detail
