import ArgumentParser
import CoexIO
import CoexKit

/// `--app-secret-file F`, for the commands that read captures written by `coex capture`.
public struct SignatureOptions: ParsableArguments {
    @Option(
        name: .customLong("app-secret-file"),
        help: ArgumentHelp(
            "Verify every capture line against the signature coex capture recorded beside it (NAME.sig[.zst] for NAME.ndjson[.zst]), under the app secrets in F (one per line).",
            discussion: "A line whose signature does not verify, or that has none, is rejected with file and line.",
            valueName: "F"))
    public var appSecretFile: String?

    public init() {}

    /// The gate, when asked for, after checking before any work that the secrets read and
    /// that every capture has its signature file. nil without --app-secret-file.
    public func gate(stage: String, inputs: [String], partOf: String? = nil) throws -> SignatureGate? {
        guard let appSecretFile else { return nil }
        let fail = { (message: String) -> ExitCode in
            try? OutputSink.standardError().write("\(stage): \(message)\n")
            return ExitCode.failure
        }
        let secrets: AppSecrets
        do {
            secrets = try AppSecrets.parse(try readSmallFile(appSecretFile))
        } catch let error as IOError {
            throw fail("--app-secret-file \(error.description)")
        } catch {
            throw fail("--app-secret-file \(appSecretFile): \(error)")
        }
        for input in inputs {
            let capture = input == "-" ? partOf : input
            guard let capture else {
                throw ValidationError("--app-secret-file needs capture files (their signature files are beside them), or --part-of FILE for standard input")
            }
            if SignatureGate.signatureFile(for: capture) == nil {
                throw fail("\(capture): no signature file (looked for \(SignatureGate.candidates(for: capture).joined(separator: " and ")))")
            }
        }
        return SignatureGate(secrets: secrets, stage: stage)
    }
}

/// A small text file (a secret, a token), read whole.
public func readSmallFile(_ path: String) throws -> String {
    let source = try FileSource(path: path)
    var bytes: [UInt8] = []
    var block = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = try block.withUnsafeMutableBytes { buffer in try source.read(into: buffer) }
        if n == 0 { break }
        bytes += block[0..<n]
        if bytes.count > 1 << 20 { throw IOError.readFailed(path: path, reason: "larger than 1 MiB: not a secret file") }
    }
    return String(decoding: bytes, as: UTF8.self)
}
