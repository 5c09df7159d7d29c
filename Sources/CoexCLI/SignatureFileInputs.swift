#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import CoexIO

/// `coex capture` writes `NAME.sig[.zst]` beside each `NAME.ndjson[.zst]`, so `captures/*`
/// names both. A signature file is never webhooks: read as input, each of its records
/// would be rejected as a webhook of the wrong shape, and the run would exit as if the
/// capture were bad. Such a file is left out of the inputs, said once on stderr, and still
/// read beside its capture by `--app-secret-file`. Only a `.sig` whose capture is there
/// beside it is left out: any other file is input as named. Naming only signature files
/// is a usage error, not a read of stdin.
public func withoutSignatureFiles(_ files: [String], command: String) throws -> [String] {
    var kept: [String] = []
    var skipped: [String] = []
    for file in files {
        if isSignatureFileOfCapture(file) { skipped.append(file) } else { kept.append(file) }
    }
    guard let first = skipped.first else { return files }
    if kept.isEmpty {
        throw ValidationError("\(first)\(skipped.count == 1 ? " is a signature file" : " and the others are signature files") of coex capture, not webhooks: name the captures (NAME.ndjson[.zst]) instead")
    }
    let more = skipped.count == 1 ? "" : " and \(skipped.count - 1) more"
    try? OutputSink.standardError().write(
        "\(command): \(first)\(more): signature file\(skipped.count == 1 ? "" : "s") of coex capture, not webhooks: not read as input (--app-secret-file reads \(skipped.count == 1 ? "it" : "them") beside \(skipped.count == 1 ? "its capture" : "their captures"))\n")
    return kept
}

/// `NAME.sig` or `NAME.sig.zst` with `NAME.ndjson`, `NAME.ndjson.zst`, `NAME.jsonl` or
/// `NAME.jsonl.zst` readable beside it.
func isSignatureFileOfCapture(_ path: String) -> Bool {
    var base = path
    if base.hasSuffix(".zst") { base.removeLast(4) }
    guard base.hasSuffix(".sig") else { return false }
    base.removeLast(4)
    guard !base.isEmpty, !base.hasSuffix("/") else { return false }
    return [".ndjson", ".ndjson.zst", ".jsonl", ".jsonl.zst"].contains { access(base + $0, R_OK) == 0 }
}
