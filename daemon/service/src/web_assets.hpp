#pragma once
#include <span>
#include <string_view>

// The dashboard's files (daemon/service/web/), compiled into dmacycled by
// cmake/EmbedWebAssets.cmake.
namespace dmacycle::service {

struct WebAsset {
    std::string_view path;  // "/dashboard.js"
    std::string_view content_type;
    std::string_view body;
};

std::span<const WebAsset> web_assets();

}  // namespace dmacycle::service
