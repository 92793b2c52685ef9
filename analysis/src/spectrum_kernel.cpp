#include "spectrum_kernel.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace dmacycle::analysis::detail {

namespace {

// Points per block of the kernel evaluation below.
constexpr std::size_t kBlockPoints = 64;

// For each block of kBlockPoints points: the sampling step when all steps inside it are equal
// (the usual uniform sampling), NaN otherwise.
std::vector<double> uniform_block_steps(std::span<const double> elapsed_s) {
    std::vector<double> steps;
    for (std::size_t first = 0; first < elapsed_s.size(); first += kBlockPoints) {
        const std::size_t last = std::min(first + kBlockPoints, elapsed_s.size()) - 1;
        double step_s = last > first ? elapsed_s[first + 1] - elapsed_s[first] : 0.0;
        for (std::size_t j = first + 1; j <= last; ++j) {
            if (elapsed_s[j] - elapsed_s[j - 1] != step_s) {
                step_s = std::numeric_limits<double>::quiet_NaN();
                break;
            }
        }
        steps.push_back(step_s);
    }
    return steps;
}

// Rows [first_row, first_row + out.size()) of exp(−elapsed·rate) (decay) or 1 − exp(−elapsed·rate)
// (growth, kept to full relative precision for slow modes) into `out`; first_row is a multiple
// of kBlockPoints. Elapsed is increasing, so past the cutoff the rest is the limit value. exp()
// would dominate the fit's cost, so a uniform block is evaluated exactly at its first point and
// from there through tabulated powers f^k of f = exp(−step·rate): decay v0·f^k, growth
// g0 + (1 − g0)(1 − f^k); the tables cost about k roundings, k < 64.
void fill_mode(std::span<const double> elapsed_s, std::span<const double> block_steps_s,
               double rate_per_s, ModeShape shape, std::size_t first_row,
               Eigen::Ref<VectorXd> out) {
    const bool growth = shape == ModeShape::growth;
    const auto exact = [&](std::size_t j) {
        const double exponent = -elapsed_s[j] * rate_per_s;
        return growth ? -std::expm1(exponent) : std::exp(exponent);
    };
    const std::size_t end_row = first_row + static_cast<std::size_t>(out.size());
    std::array<double, kBlockPoints> power{};  // f^k
    std::array<double, kBlockPoints> grown{};  // 1 − f^k, accurately
    double table_step_s = std::numeric_limits<double>::quiet_NaN();
    for (std::size_t first = first_row; first < end_row; first += kBlockPoints) {
        const std::size_t end = std::min(first + kBlockPoints, end_row);
        const auto at = [&](std::size_t j) { return static_cast<Index>(j - first_row); };
        if (-elapsed_s[end - 1] * rate_per_s < kExpCutoff) {
            // Partly or wholly past the cutoff: point by point, then the limit value.
            std::size_t j = first;
            for (; j < end && -elapsed_s[j] * rate_per_s >= kExpCutoff; ++j) {
                out(at(j)) = exact(j);
            }
            out.tail(static_cast<Index>(end_row - j)).setConstant(growth ? 1.0 : 0.0);
            return;
        }
        const double step_s = block_steps_s[first / kBlockPoints];
        if (std::isnan(step_s)) {
            for (std::size_t j = first; j < end; ++j) {
                out(at(j)) = exact(j);
            }
            continue;
        }
        if (step_s != table_step_s) {
            const double factor = std::exp(-step_s * rate_per_s);
            const double complement = -std::expm1(-step_s * rate_per_s);
            power[0] = 1.0;
            grown[0] = 0.0;
            for (std::size_t k = 1; k < kBlockPoints; ++k) {
                power[k] = power[k - 1] * factor;
                grown[k] = grown[k - 1] * factor + complement;
            }
            table_step_s = step_s;
        }
        const double anchor = exact(first);
        for (std::size_t k = 0; k < end - first; ++k) {
            out(at(first + k)) = growth ? anchor + (1.0 - anchor) * grown[k] : anchor * power[k];
        }
    }
}

}  // namespace

Kernel::Kernel(std::span<const double> elapsed_s, MatrixXd free_columns,
               std::vector<ModeColumn> columns, std::span<const double> spread_s)
    : elapsed_s_(elapsed_s),
      block_steps_s_(uniform_block_steps(elapsed_s)),
      free_columns_(std::move(free_columns)),
      columns_(std::move(columns)) {
    if (!spread_s.empty()) {
        for (std::size_t j = 0; j < elapsed_s.size(); ++j) {
            lower_s_.push_back(elapsed_s[j] - spread_s[j]);
            upper_s_.push_back(elapsed_s[j] + spread_s[j]);
        }
        lower_steps_s_ = uniform_block_steps(lower_s_);
        upper_steps_s_ = uniform_block_steps(upper_s_);
    }
}

void Kernel::fill(Index column, std::size_t first_row, Eigen::Ref<VectorXd> out) const {
    const ModeColumn& mode = columns_[static_cast<std::size_t>(column)];
    if (lower_s_.empty()) {
        fill_mode(elapsed_s_, block_steps_s_, mode.rate_per_s, mode.shape, first_row, out);
    } else {
        fill_mode(lower_s_, lower_steps_s_, mode.rate_per_s, mode.shape, first_row, out);
        VectorXd upper(out.size());
        fill_mode(upper_s_, upper_steps_s_, mode.rate_per_s, mode.shape, first_row, upper);
        out = 0.5 * (out + upper);
    }
    out *= mode.scale;
    if (!mode.shift.isZero(0)) {
        out.noalias() -=
            free_columns_.middleRows(static_cast<Index>(first_row), out.size()) * mode.shift;
    }
}

// Rows before this one are above the exp() cutoff for the given rate.
std::size_t rows_above_cutoff(std::span<const double> elapsed_s, double rate_per_s) {
    const auto end = std::partition_point(elapsed_s.begin(), elapsed_s.end(),
                                          [&](double e) { return -e * rate_per_s >= kExpCutoff; });
    return static_cast<std::size_t>(end - elapsed_s.begin());
}

NormalEquations::NormalEquations(const Kernel& kernel, const VectorXd& data,
                                 const VectorXd& sqrt_weight)
    : kernel_(kernel), rows_(data.size()) {
    constexpr std::size_t kChunkRows = 8 * kBlockPoints;
    static_assert(kChunkRows % kBlockPoints == 0, "fill_mode needs whole blocks");
    const Index modes = kernel.modes();
    const bool weighted = sqrt_weight.size() > 0;
    const MatrixXd free_columns = weighted
                                      ? MatrixXd(sqrt_weight.asDiagonal() * kernel.free_columns())
                                      : kernel.free_columns();
    const VectorXd weighted_data = weighted ? VectorXd(sqrt_weight.cwiseProduct(data)) : data;
    MatrixXd gram = MatrixXd::Zero(modes, modes);
    free_times_kernel_ = MatrixXd::Zero(free_columns.cols(), modes);
    VectorXd kernel_times_data = VectorXd::Zero(modes);
    MatrixXd chunk(static_cast<Index>(kChunkRows), modes);
    for (Index first_row = 0; first_row < data.size();
         first_row += static_cast<Index>(kChunkRows)) {
        const Index rows = std::min(static_cast<Index>(kChunkRows), data.size() - first_row);
        const Index first_column = kernel.first_live_column(static_cast<std::size_t>(first_row));
        const Index live = modes - first_column;
        for (Index i = first_column; i < modes; ++i) {
            kernel.fill(i, static_cast<std::size_t>(first_row), chunk.col(i).head(rows));
        }
        auto block = chunk.block(0, first_column, rows, live);
        if (weighted) {
            block.array().colwise() *= sqrt_weight.segment(first_row, rows).array();
        }
        gram.bottomRightCorner(live, live)
            .selfadjointView<Eigen::Lower>()
            .rankUpdate(block.transpose());
        free_times_kernel_.rightCols(live).noalias() +=
            free_columns.middleRows(first_row, rows).transpose() * block;
        kernel_times_data.tail(live).noalias() +=
            block.transpose() * weighted_data.segment(first_row, rows);
    }
    gram = gram.selfadjointView<Eigen::Lower>();
    free_gram_.compute(free_columns.transpose() * free_columns);
    free_times_data_ = free_columns.transpose() * weighted_data;

    // With F = QR: QᵀK = R⁻ᵀFᵀK, and FᵀF = RᵀR is the Cholesky factorization.
    const MatrixXd basis_kernel = free_gram_.matrixL().solve(free_times_kernel_);
    const VectorXd basis_data = free_gram_.matrixL().solve(free_times_data_);
    const double points = weighted ? sqrt_weight.squaredNorm() : static_cast<double>(data.size());
    gram_ = (gram - basis_kernel.transpose() * basis_kernel) / points;
    rhs_ = (kernel_times_data - basis_kernel.transpose() * basis_data) / points;
    data_mean_square_ = (weighted_data.squaredNorm() - basis_data.squaredNorm()) / points;
}

VectorXd NormalEquations::fitted(const VectorXd& amplitude) const {
    VectorXd out = kernel_.free_columns() * free_coefficients(amplitude);
    VectorXd column(kernel_.points());
    for (Index i = 0; i < modes(); ++i) {
        if (amplitude(i) != 0) {
            kernel_.fill(i, 0, column);
            out += amplitude(i) * column;
        }
    }
    return out;
}

double NormalEquations::log_det_hessian(double lambda) const {
    MatrixXd hessian = gram_;
    hessian.diagonal().array() += lambda;
    const Eigen::LLT<MatrixXd> factor(hessian);
    return 2.0 * factor.matrixLLT().diagonal().array().log().sum();
}

namespace {

// The modes with a > 0.
std::vector<Index> free_modes(const VectorXd& amplitude) {
    std::vector<Index> free;
    for (Index i = 0; i < amplitude.size(); ++i) {
        if (amplitude(i) > 0) {
            free.push_back(i);
        }
    }
    return free;
}

MatrixXd submatrix(const MatrixXd& full, const std::vector<Index>& rows) {
    const auto n = static_cast<Index>(rows.size());
    MatrixXd out(n, n);
    for (Index r = 0; r < n; ++r) {
        for (Index c = 0; c < n; ++c) {
            out(r, c) = full(rows[static_cast<std::size_t>(r)], rows[static_cast<std::size_t>(c)]);
        }
    }
    return out;
}

MatrixXd embed(const MatrixXd& part, const std::vector<Index>& rows, Index size) {
    MatrixXd out = MatrixXd::Zero(size, size);
    for (Index r = 0; r < part.rows(); ++r) {
        for (Index c = 0; c < part.cols(); ++c) {
            out(rows[static_cast<std::size_t>(r)], rows[static_cast<std::size_t>(c)]) = part(r, c);
        }
    }
    return out;
}

}  // namespace

MatrixXd NormalEquations::free_set_inverse(double lambda, const VectorXd& amplitude) const {
    const auto free = free_modes(amplitude);
    MatrixXd hessian = submatrix(gram_, free);
    hessian.diagonal().array() += lambda;
    const auto n = hessian.rows();
    return embed(hessian.llt().solve(MatrixXd::Identity(n, n)), free, amplitude.size());
}

MatrixXd NormalEquations::free_set_sandwich(double lambda, const VectorXd& amplitude) const {
    const auto free = free_modes(amplitude);
    const MatrixXd gram = submatrix(gram_, free);
    MatrixXd hessian = gram;
    hessian.diagonal().array() += lambda;
    const Eigen::LLT<MatrixXd> factor(hessian);
    const MatrixXd half = factor.solve(gram);                              // H⁻¹G
    return embed(factor.solve(half.transpose()), free, amplitude.size());  // H⁻¹ G H⁻¹
}

}  // namespace dmacycle::analysis::detail
