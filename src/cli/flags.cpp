#include "cli/flags.h"

#include <algorithm>

#include "config/option_table.h"

namespace metricsd {

namespace {

enum class Kind { kString, kBool };

struct FlagSpec {
  const char* name;
  Kind kind;
  const char* help;
};

constexpr FlagSpec kFlags[] = {
    {"config", Kind::kString,
     "Path to the configuration file (default \"config.json\" when it exists, else the "
     "embedded default)"},
    {"log-level", Kind::kString, "Log level: debug, info, warn or error (overrides the file)"},
    {"check-config", Kind::kBool,
     "Validate the configuration, print it with secrets redacted, and exit"},
    {"once", Kind::kBool, "Collect one cycle, print it in Prometheus text format, and exit"},
    {"version", Kind::kBool, "Print the version and exit"},
    {"help", Kind::kBool, "Print this help and exit"},
};

const FlagSpec* Find(const std::string& name) {
  if (name == "h") {
    return &kFlags[5];
  }
  for (const FlagSpec& spec : kFlags) {
    if (name == spec.name) {
      return &spec;
    }
  }
  return nullptr;
}

}  // namespace

Result<Flags> ParseFlags(const std::vector<std::string>& args) {
  Flags flags;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      flags.positional.insert(flags.positional.end(), args.begin() + static_cast<long>(i) + 1,
                              args.end());
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      flags.positional.push_back(arg);
      continue;
    }
    std::string body = arg.substr(arg[1] == '-' ? 2 : 1);
    if (body.empty() || body[0] == '-' || body[0] == '=') {
      return Error{"bad flag syntax: " + arg};
    }
    std::optional<std::string> value;
    if (std::size_t eq = body.find('='); eq != std::string::npos) {
      value = body.substr(eq + 1);
      body.resize(eq);
    }
    const FlagSpec* spec = Find(body);
    if (spec == nullptr) {
      return Error{"flag provided but not defined: -" + body};
    }
    if (spec->kind == Kind::kBool) {
      bool on = true;
      if (value) {
        if (*value == "true" || *value == "1" || *value == "t" || *value == "T" ||
            *value == "TRUE" || *value == "True") {
          on = true;
        } else if (*value == "false" || *value == "0" || *value == "f" || *value == "F" ||
                   *value == "FALSE" || *value == "False") {
          on = false;
        } else {
          return Error{"invalid boolean value \"" + *value + "\" for -" + body};
        }
      }
      std::string name = spec->name;
      if (name == "check-config") {
        flags.check_config = on;
      }
      if (name == "once") {
        flags.once = on;
      }
      if (name == "version") {
        flags.version = on;
      }
      if (name == "help") {
        flags.help = on;
      }
      continue;
    }
    if (!value) {
      if (i + 1 >= args.size()) {
        return Error{"flag needs an argument: -" + body};
      }
      value = args[++i];
    }
    if (std::string(spec->name) == "config") {
      flags.config_path = *value;
    } else {
      flags.log_level = *value;
    }
  }
  return flags;
}

std::string UsageText(const std::string& program) {
  std::string out = "Usage: " + program + " [flags]\n\n";
  out +=
      "metricsd collects host, GPU and application metrics and ships them with Prometheus\n"
      "remote write, HTTP JSON or InfluxDB line protocol; it also serves /metrics and /health.\n\n"
      "Flags (-flag and --flag, -flag=value and -flag value):\n";
  for (const FlagSpec& spec : kFlags) {
    std::string left =
        std::string("  -") + spec.name + (spec.kind == Kind::kString ? " value" : "");
    out += left;
    out += std::string(left.size() < 22 ? 22 - left.size() : 1, ' ');
    out += spec.help;
    out += "\n";
  }
  out +=
      "\nExit codes:\n"
      "  0  clean shutdown (SIGINT/SIGTERM), or -check-config/-once/-version/-help succeeded\n"
      "  1  invalid configuration\n"
      "  2  invalid command line\n"
      "  3  start-up failure (listen address unavailable, shipper could not be set up)\n"
      "\nEnvironment (applied after the file, before validation; empty means unset):\n";
  std::size_t width = 0;  // the longest variable name sets the column of the keys
  for (const config::OptionInfo& o : config::AllOptions()) {
    width = std::max(width, o.env.size());
  }
  for (const config::OptionInfo& o : config::AllOptions()) {
    if (!o.env.empty()) {
      out += "  " + std::string(o.env);
      out += std::string(width + 2 - o.env.size(), ' ');
      out += std::string(o.key) + "\n";
    }
  }
  out += "  HOST_PROC, HOST_SYS, HOST_ROOT  where the host's /proc, /sys and / are mounted\n";
  return out;
}

}  // namespace metricsd
