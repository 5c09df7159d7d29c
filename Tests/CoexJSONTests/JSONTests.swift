import Testing
@testable import CoexJSON

@Suite struct JSONTests {
    @Test func roundTripsMinified() throws {
        let parser = JSONParser()
        let v = try parser.parse(#"{"a": [1, -2, 3.5, true, null, "x\"y\n\u0001é"], "b": {}}"#)
        #expect(v.jsonString == #"{"a":[1,-2,3.5,true,null,"x\"y\n\u0001é"],"b":{}}"#)
        #expect(v["a"]?.count == 6)
        #expect(v["b"]?.isObject == true)
        #expect(v["c"] == nil)
    }
}
