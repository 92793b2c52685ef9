#include "nnls.hpp"

#include <algorithm>
#include <vector>

namespace dmacycle::analysis::detail {

namespace {

// Solves H_PP z_P = g_P on the passive set P.
Eigen::VectorXd solve_on_passive_set(const Eigen::MatrixXd& hessian, const Eigen::VectorXd& g,
                                     const std::vector<Eigen::Index>& passive) {
    const auto size = static_cast<Eigen::Index>(passive.size());
    Eigen::MatrixXd sub(size, size);
    Eigen::VectorXd rhs(size);
    for (Eigen::Index r = 0; r < size; ++r) {
        rhs(r) = g(passive[static_cast<std::size_t>(r)]);
        for (Eigen::Index c = 0; c < size; ++c) {
            sub(r, c) =
                hessian(passive[static_cast<std::size_t>(r)], passive[static_cast<std::size_t>(c)]);
        }
    }
    Eigen::LLT<Eigen::MatrixXd> cholesky(sub);
    if (cholesky.info() == Eigen::Success) {
        return cholesky.solve(rhs);
    }
    return sub.ldlt().solve(rhs);  // numerically semi-definite: pivoting copes
}

}  // namespace

bool solve_nnls_normal(const Eigen::MatrixXd& hessian, const Eigen::VectorXd& g,
                       Eigen::VectorXd& x) {
    const Eigen::Index n = g.size();
    x = x.cwiseMax(0.0);
    std::vector<bool> is_passive(static_cast<std::size_t>(n));
    for (Eigen::Index i = 0; i < n; ++i) {
        is_passive[static_cast<std::size_t>(i)] = x(i) > 0;
    }
    // Gradient entries below this count as zero (KKT tolerance, relative to the problem's scale).
    const double tolerance =
        1e-13 * std::max({g.cwiseAbs().maxCoeff(), hessian.diagonal().maxCoeff(), 1e-300});
    const int max_iterations = 5 * static_cast<int>(n) + 20;

    std::vector<Eigen::Index> passive;
    for (int iteration = 0; iteration < max_iterations; ++iteration) {
        // Optimum on the passive set, stepping back to the feasible region whenever the
        // unconstrained optimum leaves it (each step frees at least one variable).
        while (true) {
            passive.clear();
            for (Eigen::Index i = 0; i < n; ++i) {
                if (is_passive[static_cast<std::size_t>(i)]) {
                    passive.push_back(i);
                }
            }
            if (passive.empty()) {
                break;
            }
            const Eigen::VectorXd z = solve_on_passive_set(hessian, g, passive);
            if ((z.array() > 0).all()) {
                for (std::size_t k = 0; k < passive.size(); ++k) {
                    x(passive[k]) = z(static_cast<Eigen::Index>(k));
                }
                break;
            }
            double step = 2.0;  // every candidate below is ≤ 1, and one exists
            std::size_t blocking = 0;
            for (std::size_t k = 0; k < passive.size(); ++k) {
                const double zk = z(static_cast<Eigen::Index>(k));
                const double xk = x(passive[k]);
                const double candidate = xk - zk > 0 ? xk / (xk - zk) : 0.0;
                if (zk <= 0 && candidate < step) {
                    step = candidate;
                    blocking = k;
                }
            }
            for (std::size_t k = 0; k < passive.size(); ++k) {
                const Eigen::Index i = passive[k];
                x(i) += step * (z(static_cast<Eigen::Index>(k)) - x(i));
                if (x(i) <= 0 || k == blocking) {
                    x(i) = 0;
                    is_passive[static_cast<std::size_t>(i)] = false;
                }
            }
        }
        const Eigen::VectorXd descent = g - hessian * x;
        Eigen::Index best = -1;
        for (Eigen::Index i = 0; i < n; ++i) {
            if (!is_passive[static_cast<std::size_t>(i)] && descent(i) > tolerance &&
                (best < 0 || descent(i) > descent(best))) {
                best = i;
            }
        }
        if (best < 0) {
            return true;
        }
        is_passive[static_cast<std::size_t>(best)] = true;
    }
    return false;
}

}  // namespace dmacycle::analysis::detail
