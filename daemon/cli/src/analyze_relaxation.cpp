// `analyze recovery` and `analyze creep`: the relaxation fits of eqs. (1)-(3).
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "analyze_common.hpp"
#include "analyze_inputs.hpp"
#include "dmacycle/analysis/recovery_fits.hpp"
#include "dmacycle/io/text.hpp"
#include "dmacycle/store/recovery_reading.hpp"
#include "dmacycle/store/run_archive.hpp"

namespace dmacycle::cli::detail {

using store::Json;
using store::to_json;

namespace {

// A usable fit's warning (a misfit, a peak on the grid's edge) in the text too, not only the JSON.
void print_warning(std::ostream& out, const analysis::FitSummary& summary) {
    if (summary.usable && summary.message.find("warning") != std::string::npos) {
        out << "  " << summary.message << "\n";
    }
}

void print_spectrum_table(std::ostream& out, const analysis::SpectrumFit& fit, bool recovery) {
    out << io::format(
        "spectrum: %zu modes on [%.3g, %.3g] s, lambda %.3g, rms residual %.3g "
        "(noise estimate %.3g)\n",
        fit.tau_s.size(), fit.tau_s.empty() ? 0.0 : fit.tau_s.front(),
        fit.tau_s.empty() ? 0.0 : fit.tau_s.back(), fit.lambda, fit.rms_residual,
        fit.noise_estimate);
    out << io::format(
        "  the evidence's lambda %.3g (95 %% of p(lambda) in [%.3g, %.3g]); ± its noise's "
        "standard error; the band on each mode's strain is in the JSON (strain_low, strain_high)\n",
        fit.lambda_evidence, fit.lambda_plausible_low, fit.lambda_plausible_high);
    out << (recovery ? "  peak   tau_s          strain (eq. 2) ± se        strain at unload\n"
                     : "  peak   tau_s          strain (eq. 2) ± se        strain over the hold\n");
    for (std::size_t i = 0; i < fit.peaks.size(); ++i) {
        const auto& peak = fit.peaks[i];
        out << io::format(
            "  %-5zu  %-13.4g  %.4e ± %-9.2e  %.4e%s\n", i + 1, peak.tau_s, peak.strain,
            peak.strain_stderr, peak.strain_at_unload,
            peak.at_grid_edge ? "  (at an end of the tau grid: tau only a bound)" : "");
    }
    print_warning(out, fit.summary);
    if (recovery) {
        out << "eq. (2) strains from the loading kernel: " << fit.kernel << "\n";
        out << io::format("strain_vp %.4e (rate %.4g 1/s)\n", fit.strain_vp, fit.strain_rate_vp);
    } else {
        out << io::format("strain_e %.4e, strain_rate_vp %.4g 1/s\n", fit.strain_e,
                          fit.strain_rate_vp);
    }
    out << io::format(
        "not identifiable from the %.4g s window: %.4e strain in modes with tau > "
        "window (trades off against the viscoplastic term)\n",
        fit.window_s, fit.strain_beyond_window);
}

void print_kww_table(std::ostream& out, const analysis::KwwFit& kww, bool recovery) {
    out << io::format("KWW: strain_an %.4e ± %.2e, tau %.4g ± %.2g s, beta %.4f ± %.2g",
                      kww.strain_an, kww.strain_an_stderr, kww.tau_s, kww.tau_s_stderr, kww.beta,
                      kww.beta_stderr);
    if (recovery) {
        out << io::format(", strain_vp %.4e ± %.2e", kww.strain_vp, kww.strain_vp_stderr);
    } else {
        out << io::format(", strain_e %.4e, strain_rate_vp %.4g 1/s", kww.strain_e,
                          kww.strain_rate_vp);
    }
    out << io::format(" [%s]\n", analysis::to_string(kww.summary.status));
    print_warning(out, kww.summary);
}

void print_single_tau_table(std::ostream& out, const analysis::SingleTauFit& fit) {
    out << io::format("single tau: tau %.4g ± %.2g s, strain_an %.4e, rms residual %.3g [%s]\n",
                      fit.tau_s, fit.tau_s_stderr, fit.strain_an, fit.rms_residual,
                      analysis::to_string(fit.summary.status));
    print_warning(out, fit.summary);
}

}  // namespace

int analyze_recovery(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
    const io::Arguments arguments(
        args, {"t0", "after", "lambda", "modes", "tau-min", "tau-max", "db", "run"}, {"json"});
    const auto options = spectrum_options(arguments);
    const RecoveryInput input = read_recovery(arguments);
    const auto& curve = input.curve;
    const auto fits = analysis::fit_recovery(curve, input.t0_s, options, &input.history);

    if (arguments.flag("json")) {
        Json doc = {{"kind", "recovery"}};
        doc.update(input.source_json);
        doc.update(store::recovery_reading_json(curve, input.t0_s));
        doc["strain_vp"] = fits.spectrum.strain_vp;
        doc["strain_rate_vp"] = fits.spectrum.strain_rate_vp;
        store::add_spectrum_fields(doc, fits.spectrum);
        doc["single_tau"] = to_json(fits.single_tau);
        doc["kww"] = to_json(fits.kww);
        doc["instant_kww"] = to_json(fits.instant);
        print_json(out, doc);
    } else {
        out << io::format(
            "recovery: %s, %zu samples after t0 = %.10g s (%s), in %zu log-time bins "
            "(%d per decade)\n",
            input.source.c_str(), curve.samples, input.t0_s, input.how.c_str(), curve.size(),
            analysis::kBinsPerDecade);
        if (curve.tied > 0) {
            out << io::format("%zu samples repeat the time stamp before them: averaged\n",
                              curve.tied);
        }
        print_spectrum_table(out, fits.spectrum, true);
        print_single_tau_table(out, fits.single_tau);
        print_kww_table(out, fits.kww, true);
        const auto& instant = fits.instant;
        if (!instant.time_s.empty()) {
            out << io::format("instant KWW over t' = %.4g .. %.4g s: beta %.3f .. %.3f\n",
                              instant.time_s.front(), instant.time_s.back(),
                              *std::min_element(instant.beta.begin(), instant.beta.end()),
                              *std::max_element(instant.beta.begin(), instant.beta.end()));
        }
    }
    return report_fits(err, {{"spectrum", fits.spectrum.summary},
                             {"single-tau", fits.single_tau.summary},
                             {"KWW", fits.kww.summary},
                             {"instant KWW", fits.instant.summary}});
}

int analyze_creep(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
    const io::Arguments arguments(
        args, {"stress-mpa", "lambda", "modes", "tau-min", "tau-max", "db", "run"}, {"json"});
    const auto options = spectrum_options(arguments);
    const CreepInput input = read_creep(arguments);
    const auto& time_s = input.time_s;
    const auto& strain = input.strain;
    const double stress_pa = input.stress_pa;

    const auto spectrum =
        analysis::fit_creep_spectrum(time_s, strain, options, input.ramp ? &*input.ramp : nullptr);
    const auto single = analysis::fit_creep_single_tau(time_s, strain);
    const auto kww = analysis::fit_creep_kww(time_s, strain);

    if (arguments.flag("json")) {
        Json doc = {
            {"kind", "creep"},
            {"stress_pa", stress_pa},
            {"points", time_s.size()},
            {"strain_e", spectrum.strain_e},
            {"modulus_pa", spectrum.strain_e > 0 ? Json(stress_pa / spectrum.strain_e) : Json()},
            {"strain_rate_vp", spectrum.strain_rate_vp}};
        doc.update(input.source_json);
        store::add_spectrum_fields(doc, spectrum);
        doc["single_tau"] = to_json(single);
        doc["kww"] = to_json(kww);
        print_json(out, doc);
    } else {
        out << io::format("creep: %s, %zu points at %.6g MPa (%s)\n", input.source.c_str(),
                          time_s.size(), stress_pa / 1e6, input.how.c_str());
        print_spectrum_table(out, spectrum, false);
        if (spectrum.strain_e > 0) {
            out << io::format("apparent modulus sigma/strain_e %.4g GPa\n",
                              stress_pa / spectrum.strain_e / 1e9);
        }
        print_single_tau_table(out, single);
        print_kww_table(out, kww, false);
    }
    return report_fits(
        err,
        {{"spectrum", spectrum.summary}, {"single-tau", single.summary}, {"KWW", kww.summary}});
}

}  // namespace dmacycle::cli::detail
