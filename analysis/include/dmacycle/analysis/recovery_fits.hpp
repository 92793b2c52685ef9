#pragma once
#include "dmacycle/analysis/kww.hpp"
#include "dmacycle/analysis/log_bins.hpp"
#include "dmacycle/analysis/single_tau.hpp"
#include "dmacycle/analysis/spectrum.hpp"

// Every fit of a recovery, from its binned reading: the one call the runner and `analyze` make,
// so the same samples give the same results wherever they are fitted.
namespace dmacycle::analysis {

struct RecoveryFits {
    SpectrumFit spectrum;
    KwwFit kww;
    InstantKww instant;  // not usable when the KWW fit is not
    SingleTauFit single_tau;
};

// recovery: times since unloading; t0_s: the loading time before it; history: the stress over
// that loading, when recorded (eq. 2's strains then come from its kernel).
RecoveryFits fit_recovery(const BinnedCurve& recovery, double t0_s,
                          const SpectrumOptions& options = {},
                          const LoadingHistory* history = nullptr);

}  // namespace dmacycle::analysis
