#pragma once

// Where an upload job's entries come from: a directory tree or a JSONL manifest, streamed
// into an input_sink one encoded upload_entry per task (the upload kind's list function).
// Both listings are deterministic, so listing the same unchanged source twice gives the same
// inputs in the same order, hence the same job id.
//
//   auto listed = haul::upload::list_directory("/srv/site", sink);
//   if (!listed) return listed; // errc::invalid_argument, or the sink's own error
//
// Also here: what a key becomes on the wire (encode_key_for_url) and which Content-Type a
// key gets when its entry names none (guess_content_type).

#include <filesystem>
#include <string>
#include <string_view>

#include "haul/expected.hpp"
#include "haul/kind.hpp"

namespace haul::upload {

/// Adds one entry per regular file under `root`, depth first, each directory's names sorted
/// bytewise and a subdirectory walked at its name's place among its siblings. Symlinks to
/// regular files are followed; symlinks to directories are not walked (no cycles); other
/// file types are skipped, as are files that vanish while being listed. Entry fields: key =
/// the path relative to root with '/' separators; path = the absolute path (root made
/// absolute against the current directory, so the entry still holds after a restart from
/// elsewhere); size and mtime_ns from stat; content_type empty.
/// Memory: the names of the directories on the current path only, never the whole tree.
/// Fails with errc::invalid_argument when root is missing or not a directory, or when a
/// directory under it cannot be read; a sink error is returned as is. On failure the
/// entries already added are not taken back: the caller discards the listing.
[[nodiscard]] expected<void> list_directory(const std::filesystem::path& root, input_sink& out);

/// Adds one entry per line of a JSONL manifest, in line order. Each non-blank line is one
/// object {"key": "...", "path": "...", "content_type": "..."} with content_type optional;
/// a relative path is taken relative to the manifest's directory. size and mtime_ns come
/// from stat; a file that is missing or not a regular file is listed with both 0 and fails
/// its task when it is sent (a manifest may be written before all its files exist).
/// Fails with errc::invalid_argument, the message starting "MANIFEST:LINE:" (and the column
/// for JSON syntax errors), when a line is not a JSON object, lacks key or path, has a field
/// that is not a string, an unknown field, a field twice, an empty path, or a key that is
/// empty, starts with '/', holds a NUL or an empty, "." or ".." segment; or when two lines
/// have the same key (found after the last line, naming both lines). Reads the manifest line
/// by line; holds 16 bytes per entry to find duplicate keys.
[[nodiscard]] expected<void> list_manifest(const std::filesystem::path& manifest, input_sink& out);

/// Content-Type for a key from its extension, case-insensitive ("a/b.JSON" is
/// application/json); text/* types carry "; charset=utf-8". application/octet-stream for an
/// unknown or missing extension.
std::string guess_content_type(std::string_view key);

/// The key as it goes into a URL path: every byte percent-encoded (uppercase hex) except
/// RFC 3986 unreserved characters and '/', so "a b+é" becomes "a%20b%2B%C3%A9".
std::string encode_key_for_url(std::string_view key);

} // namespace haul::upload
