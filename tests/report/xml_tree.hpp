#pragma once
// XML documents (the report's SVG figures and its page) read with Boost.PropertyTree's parser,
// which refuses anything not well-formed.
#include <doctest/doctest.h>

#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace report_test {

namespace pt = boost::property_tree;

// The document's tree; fails the test (naming `what`) when it is not well-formed.
inline pt::ptree parse_xml(const std::string& text, const std::string& what) {
    std::istringstream in(text);
    pt::ptree tree;
    try {
        pt::read_xml(in, tree);
    } catch (const pt::xml_parser_error& error) {
        FAIL(what << " is not well-formed XML: " << error.what());
    }
    return tree;
}

// Every element named `name` under `tree`, depth first.
inline void collect(const pt::ptree& tree, const std::string& name,
                    std::vector<const pt::ptree*>& out) {
    for (const auto& [key, child] : tree) {
        if (key == name) {
            out.push_back(&child);
        }
        collect(child, name, out);
    }
}

}  // namespace report_test
