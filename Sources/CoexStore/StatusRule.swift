/// Which status a message shows (domain rules): the one with the latest time (a status
/// without a time is older than any with one); at equal times sent < delivered < read <
/// played < failed, then the name. Never the last to arrive. `BusinessLoad.statusRankSQL`
/// is the same rank in SQL.
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

    public static func isLater(_ a: (status: String, time: Int64?), than b: (status: String, time: Int64?)) -> Bool {
        (a.time ?? Int64.min, rank(a.status), a.status) > (b.time ?? Int64.min, rank(b.status), b.status)
    }
}
