import CoexIO
import CoexKit

/// coex-apply: edits and revokes applied to the messages they change (`EditApplier`).
/// First pass: changes are held, every other record waits in a spool (past its budget
/// in a temporary file). Second pass, at the end of input: a message with changes goes
/// out changed, with its versions; the rest passes as it came. Changes whose message did
/// not pass go out last, pending, for a later import.
public final class ApplyStage: RecordStage {
    public static let name = StageName.apply

    private var applier: EditApplier
    private let spool: RecordSpool
    private let settings: SpillSettings
    private var heldCount = 0
    private var recordsOut = 0
    private var pendingCount = 0
    private var absorbed = (edits: 0, edited: 0, versions: 0, revokes: 0, spooled: false)

    public init(_ settings: SpillSettings, redactRevoked: Bool = false) {
        self.settings = settings
        applier = EditApplier(redactRevoked: redactRevoked)
        spool = RecordSpool(stage: Self.name, settings)
    }

    public func take(_ record: Record, _ out: RecordOutlet) throws(IOError) {
        // Pending changes of an earlier run are held again like new ones.
        if record.kind == .edit || record.kind == .revoke, record.originalMessageID != nil {
            applier.hold(record)
            return
        }
        try spool.append(record)
    }

    public func finish(_ out: RecordOutlet) throws(IOError) {
        heldCount = applier.heldCount
        var changed: [Record] = []
        try spool.replay { record throws(IOError) in
            if record.kind == .message, let wamid = record.wamid, applier.hasChanges(waba: record.wabaID, wamid: wamid) {
                applier.apply(to: record, into: &changed)
                for r in changed { try out.put(r) }
                recordsOut += changed.count
                changed.removeAll(keepingCapacity: true)
            } else {
                recordsOut += 1
                try out.put(record)
            }
        }
        let pending = applier.pending()
        pendingCount = pending.count
        for r in pending { try out.put(r) }
        recordsOut += pending.count
    }

    /// Adds another instance's counts (a stage run on another share of the businesses).
    public func absorb(_ other: ApplyStage) {
        heldCount += other.heldCount
        recordsOut += other.recordsOut
        pendingCount += other.pendingCount
        absorbed.edits += other.applier.appliedEdits + other.absorbed.edits
        absorbed.edited += other.applier.editedMessages + other.absorbed.edited
        absorbed.versions += other.applier.versionsOut + other.absorbed.versions
        absorbed.revokes += other.applier.appliedRevokes + other.absorbed.revokes
        absorbed.spooled = absorbed.spooled || other.spool.spilled || other.absorbed.spooled
    }

    public func summary(_ input: InputCounts) -> [String] {
        let edits = applier.appliedEdits + absorbed.edits
        let edited = applier.editedMessages + absorbed.edited
        let versions = applier.versionsOut + absorbed.versions
        let revokes = applier.appliedRevokes + absorbed.revokes
        var line = "\(plural(input.lines, "line")) read: \(heldCount) edits and revokes held, "
            + "\(plural(edits, "edit")) applied to \(plural(edited, "message")) "
            + "(\(plural(versions, "version")) out), \(plural(revokes, "revoke")) applied, "
            + "\(pendingCount) pending; \(recordsOut) records out; \(input.rejected) rejected, \(input.blank) blank"
        if spool.spilled || absorbed.spooled { line += "; spooled to disk past \(settings.label)" }
        return [line]
    }
}
