/// Where a business's database lives: `DIR/<waba_id>.sqlite`.
public enum BusinessFile {
    /// Upstream stages reject unsafe WABA ids already; coex-load checks again because a
    /// record file can come from anywhere, and `..` or `/` would write outside DIR.
    public static func isSafe(_ wabaID: String) -> Bool {
        !wabaID.isEmpty && wabaID != "." && wabaID != ".." && !wabaID.utf8.contains(0x2F) && !wabaID.utf8.contains(0)
    }

    /// The files of a database that a load writes: the database and its WAL journal.
    public static let suffixes = [".sqlite", ".sqlite-wal", ".sqlite-shm"]

    public static func name(for wabaID: String) throws(StoreError) -> String {
        guard isSafe(wabaID) else { throw .unsafeBusinessID(wabaID) }
        return wabaID + ".sqlite"
    }

    public static func path(for wabaID: String, in directory: String) throws(StoreError) -> String {
        let name = try name(for: wabaID)
        return directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// The business a database belongs to, from its file name (the database does not store
    /// it): the name without `.sqlite`; a name that is only `.sqlite`, or has another
    /// extension, is taken whole.
    public static func wabaID(ofDatabase path: String) -> String {
        let name = path.split(separator: "/", omittingEmptySubsequences: true).last.map(String.init) ?? path
        return name.hasSuffix(".sqlite") && name.count > 7 ? String(name.dropLast(7)) : name
    }
}
