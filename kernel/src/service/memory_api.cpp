// Claude's memory tool on an agent's memory files (docs/memory-tool.md): ContextService's
// memory_command and list_memory_files. A memory file is a context of the agent whose metadata
// holds its path and whose context_data holds {"text": ...}; every command reads and writes
// through the same access checks, versions and audit as the rest of the API, as the caller.

#include <map>

#include "core/access.hpp"
#include "core/context_render.hpp"
#include "core/page.hpp"
#include "core/request_parsing.hpp"
#include "json/json_text.hpp"
#include "memory/memory_path.hpp"
#include "memory/memory_text.hpp"
#include "service/context_service.hpp"

namespace ctxmgr::kernel {

namespace json = boost::json;
using sdk::ApiResponse;
using sdk::Errc;
using sdk::Error;
using sdk::Status;

namespace {

// A folder command handles at most this many files: a view lists that many and says so, a
// delete or rename of a larger folder is refused before it changes anything.
constexpr std::int64_t kMaxFolderFiles = 10000;

std::string too_many_files(const std::string& path, std::string_view what) {
  return "The folder " + path + " holds more than " + std::to_string(kMaxFolderFiles) +
         " files, more than one command may " + std::string(what) + "; " + std::string(what) +
         " its subfolders one by one. Nothing was changed.";
}

ApiResponse tool_answer(std::string_view content, bool is_error) {
  ApiResponse r;
  r.json = "{\"content\":" + json_quote(content) +
           ",\"is_error\":" + (is_error ? "true" : "false") + "}";
  return r;
}

std::string path_of(const sdk::ContextRow& row) {
  auto meta = parse_json(row.metadata, 64);
  if (!meta || !meta->is_object()) return {};
  const auto* p = meta->get_object().if_contains("path");
  return p != nullptr && p->is_string() ? std::string(p->get_string()) : std::string();
}

// The file's text: context_data.text, or (a context made through the API with other data) its
// JSON.
std::string text_of(const sdk::ContextRow& row) {
  auto data = parse_json(row.context_data, 64);
  if (data && data->is_object()) {
    if (const auto* t = data->get_object().if_contains("text"); t != nullptr && t->is_string()) {
      return std::string(t->get_string());
    }
  }
  return row.context_data;
}

// The tool's input fields, each read as the model wrote it; a missing or mistyped field is the
// model's mistake, answered as a tool error.
struct Input {
  const json::object& o;
  std::string command;
  std::string missing;  // the message for the first field that is missing or of the wrong type

  std::optional<std::string> text(std::string_view key) {
    const auto* v = o.if_contains(key);
    if (v != nullptr && v->is_string()) return std::string(v->get_string());
    if (missing.empty()) {
      missing = "Error: parameter `" + std::string(key) + "` " +
                (v == nullptr ? "is required" : "must be a string") + " for command `" + command +
                "`";
    }
    return std::nullopt;
  }
  std::optional<std::int64_t> integer(std::string_view key) {
    const auto* v = o.if_contains(key);
    if (v != nullptr && v->is_int64()) return v->get_int64();
    if (v != nullptr && v->is_uint64() && v->get_uint64() <= INT64_MAX) {
      return static_cast<std::int64_t>(v->get_uint64());
    }
    if (missing.empty()) {
      missing = "Error: parameter `" + std::string(key) + "` " +
                (v == nullptr ? "is required" : "must be an integer") + " for command `" + command +
                "`";
    }
    return std::nullopt;
  }
};

// A stored JSON object's text with `key` set to `value` (its other keys, e.g. those of a context
// made through the API, kept).
std::string with_key(const std::string& object_text, const char* key, const std::string& value) {
  auto doc = parse_json(object_text, 64);
  json::object o = doc && doc->is_object() ? doc->get_object() : json::object();
  o[key] = value;
  return to_json(o);
}

}  // namespace

sdk::Result<std::vector<sdk::ContextRow>> ContextService::memory_rows(const Identity& who,
                                                                      const std::string& agent,
                                                                      const std::string& prefix,
                                                                      std::int64_t limit) {
  if (settings_.memory_files == nullptr) {
    return Error(Errc::unavailable, "the configured storage keeps no memory files");
  }
  sdk::MemoryFileQuery q;
  q.agent_id = agent;
  q.prefix = prefix;
  auto all = sees_all_of_owner(access_, who, agent);
  if (!all) return all.error();
  if (!*all) q.granted_to = who.agent_id;
  std::vector<sdk::ContextRow> out;
  while (static_cast<std::int64_t>(out.size()) < limit) {
    q.limit = std::min<std::int64_t>(1000, limit - static_cast<std::int64_t>(out.size()));
    auto page = settings_.memory_files->memory_files(q);
    if (!page) return page.error();
    const bool full = static_cast<std::int64_t>(page->size()) == q.limit;
    if (!page->empty()) q.after_path = path_of(page->back());
    for (auto& row : *page) out.push_back(std::move(row));
    if (!full) break;
  }
  return out;
}

sdk::Result<std::optional<sdk::ContextRow>> ContextService::memory_file(const Identity& who,
                                                                        const std::string& agent,
                                                                        const std::string& path) {
  // The exact path sorts before every longer path it begins.
  auto rows = memory_rows(who, agent, path, 1);
  if (!rows) return rows.error();
  if (rows->empty() || path_of(rows->front()) != path) return std::optional<sdk::ContextRow>();
  return std::optional<sdk::ContextRow>(std::move(rows->front()));
}

sdk::Result<ApiResponse> ContextService::list_memory_files(const sdk::Caller& caller,
                                                           std::string_view agent_text,
                                                           std::string_view path_prefix,
                                                           const sdk::PageParams& page) {
  return as_caller("list", caller, [&](const Identity& who) -> sdk::Result<ApiResponse> {
    auto agent = parse_agent_id(agent_text, "agent id");
    if (!agent) return agent.error();
    auto limit = parse_limit(page.limit, kDefaultPageLimit);
    if (!limit) return limit.error();
    if (page.tag || page.include_deleted) {
      return invalid_request(
          "path_prefix lists live memory files by path: it takes no tag or "
          "include_deleted");
    }
    if (path_prefix.substr(0, memory::kRoot.size()) != memory::kRoot) {
      return invalid_request("path_prefix must start with /memories");
    }
    if (settings_.memory_files == nullptr) {
      return Error(Errc::unavailable, "the configured storage keeps no memory files");
    }
    sdk::MemoryFileQuery q;
    q.agent_id = *agent;
    // "/memories" and "/memories/" both mean every file.
    q.prefix = path_prefix.size() <= memory::kRoot.size() + 1 ? std::string(memory::kRoot) + "/"
                                                              : std::string(path_prefix);
    q.limit = *limit + 1;
    if (page.cursor) {
      auto c = memory::check_path(*page.cursor, false);
      if (!c.error.empty() || c.path.root) {
        return invalid_request("cursor: not a cursor of this list (pass next_cursor as given)");
      }
      q.after_path = c.path.text;
    }
    auto all = sees_all_of_owner(access_, who, *agent);
    if (!all) return all.error();
    if (!*all) q.granted_to = who.agent_id;
    if (auto st = audit_read(caller, who, "list", "",
                             "{\"agent_id\":" + json_quote(*agent) +
                                 ",\"path_prefix\":" + json_quote(q.prefix) + "}");
        !st) {
      return st.error();
    }
    auto rows = settings_.memory_files->memory_files(q);
    if (!rows) return rows.error();
    ApiResponse r;
    r.json = render_page(*rows, *limit, render_context, path_of);
    return r;
  });
}

sdk::Result<ApiResponse> ContextService::memory_command(const sdk::Caller& caller,
                                                        std::string_view agent_text,
                                                        std::string_view body) {
  return as_caller("memory", caller, [&](const Identity& who) -> sdk::Result<ApiResponse> {
    auto agent = parse_agent_id(agent_text, "agent id");
    if (!agent) return agent.error();
    auto obj =
        parse_body_object(body, settings_.max_json_depth,
                          {"command", "path", "file_text", "old_str", "new_str", "insert_line",
                           "insert_text", "old_path", "new_path", "view_range"});
    if (!obj) return obj.error();
    if (settings_.memory_files == nullptr) {
      return Error(Errc::unavailable, "the configured storage keeps no memory files");
    }
    const auto* c = obj->if_contains("command");
    if (c == nullptr || !c->is_string()) {
      return tool_answer(
          "Error: `command` is required: one of view, create, str_replace, insert, "
          "delete, rename",
          true);
    }
    Input in{*obj, std::string(c->get_string()), {}};
    const MemoryCall call{caller, who, *agent};
    if (in.command == "view") return memory_view(call, in.o);
    if (in.command == "create") {
      auto path = in.text("path");
      auto text = in.text("file_text");
      if (!in.missing.empty()) return tool_answer(in.missing, true);
      return memory_create(call, *path, *text);
    }
    if (in.command == "str_replace" || in.command == "insert") {
      auto path = in.text("path");
      std::optional<std::string> a, b;
      std::optional<std::int64_t> line;
      if (in.command == "str_replace") {
        a = in.text("old_str");
        b = in.text("new_str");
      } else {
        line = in.integer("insert_line");
        b = in.text("insert_text");
      }
      if (!in.missing.empty()) return tool_answer(in.missing, true);
      return memory_edit(call, *path, [&](const std::string& p, const std::string& text) {
        return line ? memory::insert(p, text, *line, *b) : memory::str_replace(p, text, *a, *b);
      });
    }
    if (in.command == "delete") {
      auto path = in.text("path");
      if (!in.missing.empty()) return tool_answer(in.missing, true);
      return memory_delete(call, *path);
    }
    if (in.command == "rename") {
      auto from = in.text("old_path");
      auto to = in.text("new_path");
      if (!in.missing.empty()) return tool_answer(in.missing, true);
      return memory_rename(call, *from, *to);
    }
    return tool_answer("Error: unknown command `" + in.command +
                           "`; use one of view, create, str_replace, insert, delete, rename",
                       true);
  });
}

sdk::Result<ApiResponse> ContextService::memory_view(const MemoryCall& call,
                                                     const json::object& input) {
  const auto* p = input.if_contains("path");
  if (p == nullptr || !p->is_string()) {
    return tool_answer("Error: parameter `path` is required for command `view`", true);
  }
  std::optional<std::pair<std::int64_t, std::int64_t>> range;
  if (const auto* r = input.if_contains("view_range"); r != nullptr && !r->is_null()) {
    const auto* a = r->if_array();
    if (a == nullptr || a->size() != 2 || !(*a)[0].is_int64() || !(*a)[1].is_int64()) {
      return tool_answer(
          "Error: `view_range` must be two integers [first_line, last_line] "
          "(last_line -1: to the end)",
          true);
    }
    range.emplace((*a)[0].get_int64(), (*a)[1].get_int64());
  }
  const std::string shown(p->get_string());
  auto checked = memory::check_path(shown, true);
  if (!checked.error.empty()) return tool_answer(checked.error, true);
  if (!checked.path.root) {
    auto file = memory_file(call.who, call.agent, checked.path.text);
    if (!file) return file.error();
    if (*file) {
      if (auto st = audit_read(call.caller, call.who, "read", (*file)->id,
                               "{\"version\":" + std::to_string((*file)->version) + "}");
          !st) {
        return st.error();
      }
      auto out = memory::view_file(shown, text_of(**file), range);
      return tool_answer(out.message, out.error);
    }
  }
  const std::string prefix = memory::folder_prefix(checked.path);
  auto rows = memory_rows(call.who, call.agent, prefix, kMaxFolderFiles + 1);
  if (!rows) return rows.error();
  const bool cut = static_cast<std::int64_t>(rows->size()) > kMaxFolderFiles;
  if (cut) rows->pop_back();
  if (rows->empty() && !checked.path.root) {
    return tool_answer("The path " + shown + " does not exist. Please provide a valid path.", true);
  }
  if (auto st = audit_read(call.caller, call.who, "list", "",
                           "{\"agent_id\":" + json_quote(call.agent) +
                               ",\"path_prefix\":" + json_quote(prefix) + "}");
      !st) {
    return st.error();
  }
  std::vector<std::pair<std::string, std::uint64_t>> files;
  for (const auto& row : *rows) {
    files.emplace_back(path_of(row).substr(prefix.size()), text_of(row).size());
  }
  std::string listing = memory::view_folder(checked.path.text, files);
  if (cut) {
    listing += "\n(the listing stops at the first " + std::to_string(kMaxFolderFiles) +
               " files in path order; view a subfolder for the rest)";
  }
  return tool_answer(listing, false);
}

// A file's ancestors that are files themselves ("/memories/a" for "/memories/a/b.md"): a path
// below a file cannot be made, as in a file system.
sdk::Result<std::optional<std::string>> ContextService::memory_file_above(const MemoryCall& call,
                                                                          const std::string& path) {
  for (auto slash = path.rfind('/'); slash > memory::kRoot.size();
       slash = path.rfind('/', slash - 1)) {
    const std::string above = path.substr(0, slash);
    auto file = memory_file(call.who, call.agent, above);
    if (!file) return file.error();
    if (*file) return std::optional<std::string>(above);
  }
  return std::optional<std::string>();
}

sdk::Result<ApiResponse> ContextService::memory_create(const MemoryCall& call,
                                                       const std::string& shown,
                                                       const std::string& text) {
  auto checked = memory::check_path(shown, false);
  if (!checked.error.empty()) return tool_answer(checked.error, true);
  if (checked.path.root) return tool_answer("File /memories already exists", true);
  if (auto big = memory::too_large(shown, text)) return tool_answer(*big, true);
  const std::string& path = checked.path.text;
  auto folder = memory_rows(call.who, call.agent, path + "/", 1);
  if (!folder) return folder.error();
  if (!folder->empty()) return tool_answer("File " + shown + " already exists", true);
  auto above = memory_file_above(call, path);
  if (!above) return above.error();
  if (*above) {
    return tool_answer("Cannot create " + shown + ": " + **above + " is a file, not a directory",
                       true);
  }
  json::object body;
  body["agent_id"] = call.agent;
  body["context_data"] = json::object{{"text", text}};
  body["metadata"] = json::object{{"path", path}};
  auto made = create_as(call.caller, call.who, to_json(body), std::nullopt);
  if (!made) {
    // The unique path index: another live file of the agent has this path.
    if (made.error().code() == Errc::conflict) {
      return tool_answer("File " + shown + " already exists", true);
    }
    return made.error();
  }
  return tool_answer("File created successfully at: " + shown, false);
}

template <class EditFn>
sdk::Result<ApiResponse> ContextService::memory_edit(const MemoryCall& call,
                                                     const std::string& shown, EditFn&& edit) {
  auto checked = memory::check_path(shown, false);
  if (!checked.error.empty()) return tool_answer(checked.error, true);
  const std::string missing = "The path " + shown + " does not exist. Please provide a valid path.";
  auto file = memory_file(call.who, call.agent, checked.path.text);
  if (!file) return file.error();
  if (!*file) {
    auto folder = memory_rows(call.who, call.agent, memory::folder_prefix(checked.path), 1);
    if (!folder) return folder.error();
    if (!folder->empty() || checked.path.root) {
      return tool_answer("The path " + shown + " is not a file.", true);
    }
    return tool_answer(missing, true);
  }
  // The edit is made on the row as the write transaction holds it (locked): commands on one file
  // queue up and each edits what the previous one wrote.
  std::optional<std::string> refusal;
  std::string said;
  auto updated = update_with(
      call.caller, call.who, (*file)->id, std::nullopt, [&](sdk::ContextRow& row) -> Status {
        if (path_of(row) != checked.path.text) refusal = missing;  // renamed meanwhile
        if (refusal) return Error(Errc::conflict, "the memory command refused the change");
        memory::Edit out = edit(shown, text_of(row));
        if (out.error) refusal = out.message;
        if (!refusal) refusal = memory::too_large(shown, out.text);
        if (refusal) return Error(Errc::conflict, "the memory command refused the change");
        row.context_data = with_key(row.context_data, "text", out.text);
        said = std::move(out.message);
        return {};
      });
  if (refusal) return tool_answer(*refusal, true);
  if (!updated) {
    if (updated.error().code() == Errc::not_found) return tool_answer(missing, true);
    return updated.error();
  }
  return tool_answer(said, false);
}

sdk::Result<ApiResponse> ContextService::memory_delete(const MemoryCall& call,
                                                       const std::string& shown) {
  auto checked = memory::check_path(shown, true);
  if (!checked.error.empty()) return tool_answer(checked.error, true);
  if (checked.path.root) return tool_answer("Cannot delete the /memories directory itself", true);
  std::vector<sdk::ContextRow> doomed;
  auto file = memory_file(call.who, call.agent, checked.path.text);
  if (!file) return file.error();
  if (*file) {
    doomed.push_back(std::move(**file));
  } else {
    auto rows = memory_rows(call.who, call.agent, memory::folder_prefix(checked.path),
                            kMaxFolderFiles + 1);
    if (!rows) return rows.error();
    if (static_cast<std::int64_t>(rows->size()) > kMaxFolderFiles) {
      return tool_answer(too_many_files(shown, "delete"), true);
    }
    doomed = std::move(*rows);
  }
  if (doomed.empty()) return tool_answer("The path " + shown + " does not exist", true);
  for (const auto& row : doomed) {
    auto gone = delete_as(call.caller, call.who, row.id, false);
    // Deleted meanwhile by another command: the outcome wanted.
    if (!gone && gone.error().code() != Errc::not_found) return gone.error();
  }
  return tool_answer("Successfully deleted " + shown, false);
}

sdk::Result<ApiResponse> ContextService::memory_rename(const MemoryCall& call,
                                                       const std::string& from_shown,
                                                       const std::string& to_shown) {
  auto from = memory::check_path(from_shown, true);
  if (!from.error.empty()) return tool_answer(from.error, true);
  auto to = memory::check_path(to_shown, true);
  if (!to.error.empty()) return tool_answer(to.error, true);
  if (from.path.root || to.path.root) {
    return tool_answer("Cannot rename the /memories directory itself", true);
  }
  const std::string& old_path = from.path.text;
  const std::string& new_path = to.path.text;
  if (new_path == old_path || new_path.starts_with(old_path + "/")) {
    return tool_answer("Cannot rename " + from_shown + " to " + to_shown + ": a path into itself",
                       true);
  }
  auto dest = memory_file(call.who, call.agent, new_path);
  if (!dest) return dest.error();
  auto dest_folder = memory_rows(call.who, call.agent, new_path + "/", 1);
  if (!dest_folder) return dest_folder.error();
  if (*dest || !dest_folder->empty()) {
    return tool_answer("The destination " + to_shown + " already exists", true);
  }
  auto above = memory_file_above(call, new_path);
  if (!above) return above.error();
  if (*above) {
    return tool_answer("Cannot rename to " + to_shown + ": " + **above + " is a file", true);
  }
  // One file: one new version with the new path, in one transaction (the unique path index makes
  // a racing rename to the same destination lose). A folder: one such version per file.
  std::vector<std::pair<sdk::ContextRow, std::string>> moves;
  auto file = memory_file(call.who, call.agent, old_path);
  if (!file) return file.error();
  if (*file) {
    moves.emplace_back(std::move(**file), new_path);
  } else {
    auto rows = memory_rows(call.who, call.agent, old_path + "/", kMaxFolderFiles + 1);
    if (!rows) return rows.error();
    if (static_cast<std::int64_t>(rows->size()) > kMaxFolderFiles) {
      return tool_answer(too_many_files(from_shown, "rename"), true);
    }
    for (auto& row : *rows) {
      std::string moved = new_path + path_of(row).substr(old_path.size());
      moves.emplace_back(std::move(row), std::move(moved));
    }
  }
  if (moves.empty()) return tool_answer("The path " + from_shown + " does not exist", true);
  for (const auto& move : moves) {
    const sdk::ContextRow& row = move.first;
    const std::string& moved = move.second;
    const std::string was = path_of(row);
    bool moved_meanwhile = false;
    auto updated = update_with(call.caller, call.who, row.id, std::nullopt,
                               [&](sdk::ContextRow& now) -> Status {
                                 if (path_of(now) != was) {
                                   moved_meanwhile = true;
                                   return Error(Errc::conflict, "moved meanwhile");
                                 }
                                 now.metadata = with_key(now.metadata, "path", moved);
                                 return {};
                               });
    if (updated) continue;
    if (moved_meanwhile || updated.error().code() == Errc::not_found) {
      // Another command moved or deleted it since it was looked up: that one won.
      return tool_answer("The path " + from_shown + " does not exist", true);
    }
    if (updated.error().code() == Errc::conflict) {
      // The unique path index: another file took the destination first.
      return tool_answer("The destination " + to_shown + " already exists", true);
    }
    return updated.error();
  }
  return tool_answer("Successfully renamed " + from_shown + " to " + to_shown, false);
}

}  // namespace ctxmgr::kernel
