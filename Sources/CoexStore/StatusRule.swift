/// Which status a message shows (domain rules): the one with the latest time (a status
/// without a time is older than any with one); at equal times sent < delivered < read <
/// played < failed, then the name. Never the last to arrive. `rankSQL` is the same rank in SQL.
public enum StatusRule {
    public static func rank(_ status: String) -> Int {
        switch status {
        case "failed": 5
        case "played": 4
        case "read": 3
        case "delivered": 2
        case "sent": 1
        default: 0
        }
    }

    /// `rank` as an SQL expression over the `status` column of the table aliased `alias`.
    public static func rankSQL(_ alias: String) -> String {
        """
        CASE \(alias).status WHEN 'failed' THEN 5 WHEN 'played' THEN 4 WHEN 'read' THEN 3 \
        WHEN 'delivered' THEN 2 WHEN 'sent' THEN 1 ELSE 0 END
        """
    }

    public static func isLater(_ a: (status: String, time: Int64?), than b: (status: String, time: Int64?)) -> Bool {
        (a.time ?? Int64.min, rank(a.status), a.status) > (b.time ?? Int64.min, rank(b.status), b.status)
    }
}
