import Foundation

/// A private temporary directory for spill files, removed when done.
public final class SpillDirectory {
    public let path: String

    public init(in parent: String, prefix: String) throws(IOError) {
        var template = Array("\(parent)/\(prefix).XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard made != nil else {
            throw .cannotCreateDirectory(path: parent, reason: String(cString: strerror(errno)))
        }
        path = String(cString: template.withUnsafeBufferPointer { $0.baseAddress! })
    }

    public func file(_ name: String) -> String { "\(path)/\(name)" }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
