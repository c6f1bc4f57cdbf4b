import XCTest
@testable import ShardPipeline

/// Key placement against tables worked out by hand from the documented rules.
///
/// Topology (a Telegram-like five-DC layout):
///
///     dc  city        jurisdiction  region
///      0  Miami       0 (US)        0 (americas)
///      1  Ashburn     0 (US)        0 (americas)
///      2  Amsterdam   1 (EU)        1 (europe)
///      3  Frankfurt   1 (EU)        1 (europe)
///      4  Singapore   2 (SG)        2 (asia)
final class KeyPlacementTests: XCTestCase {
    let topology = KeyPlacementTopology(jurisdictionOfDC: [0, 0, 1, 1, 2], regionOfDC: [0, 0, 1, 1, 2])

    func testHolderChoiceMatchesTheHandWorkedTable() throws {
        // (policy, data DC, choice) → (holders, threshold, key jurisdiction), with the reasoning.
        let table: [(KeyPlacementPolicy, Int, UInt64, [Int], Int, Int, String)] = [
            (.sameDC, 2, 0, [2], 1, 1, "the data DC itself"),
            (.sameDC, 4, 99, [4], 1, 2, "choice is irrelevant"),
            (.otherDC, 2, 0, [3], 1, 1, "europe has one other DC: 3"),
            (.otherDC, 2, 5, [3], 1, 1, "still 3 (only candidate)"),
            (.otherDC, 0, 7, [1], 1, 0, "americas: only 1"),
            (.otherDC, 4, 1, [1], 1, 0, "asia has no other DC → all others [0,1,2,3], index 1"),
            (.otherDC, 4, 6, [2], 1, 1, "6 % 4 = 2 → dc2"),
            (.otherJurisdiction, 0, 0, [2], 1, 1, "foreign to US: [2,3,4], none in americas → index 0"),
            (.otherJurisdiction, 0, 4, [3], 1, 1, "4 % 3 = 1 → dc3"),
            (.otherJurisdiction, 2, 2, [4], 1, 2, "foreign to EU: [0,1,4], none in europe → index 2"),
            (.otherJurisdiction, 4, 3, [3], 1, 1, "foreign to SG: [0,1,2,3], none in asia → 3 % 4 = 3 → dc3"),
            (.split(k: 2, n: 3), 2, 0, [0, 2, 4], 2, 0, "J = [0,1,2], start 0, within 0 → first DC of each"),
            (.split(k: 2, n: 3), 2, 4, [3, 4, 1], 2, 1, "start 4 % 3 = 1 → J1, J2, J0; within 4 / 3 = 1 → dc3, dc4, dc1"),
            (.split(k: 2, n: 2), 0, 2, [4, 0], 2, 2, "start 2 → J2, J0; within 0 → dc4, dc0"),
            (.split(k: 1, n: 2), 0, 1, [2, 4], 1, 1, "start 1 → J1, J2; within 0"),
        ]
        for (policy, dc, choice, holders, threshold, keyJurisdiction, why) in table {
            let p = try policy.place(dataDC: dc, topology: topology, choice: choice)
            XCTAssertEqual(p.holders, holders, "\(policy) data dc\(dc) choice \(choice): \(why)")
            XCTAssertEqual(p.threshold, threshold, "\(policy) data dc\(dc) choice \(choice)")
            XCTAssertEqual(p.keyJurisdiction, keyJurisdiction, "\(policy) data dc\(dc) choice \(choice)")
        }
    }

    func testDecryptabilityUnderReachableSetsMatchesTheHandWorkedTable() throws {
        let same = try KeyPlacementPolicy.sameDC.place(dataDC: 2, topology: topology, choice: 0)                 // [2]
        let other = try KeyPlacementPolicy.otherDC.place(dataDC: 2, topology: topology, choice: 0)               // [3]
        let foreign = try KeyPlacementPolicy.otherJurisdiction.place(dataDC: 0, topology: topology, choice: 0)   // [2]
        let split = try KeyPlacementPolicy.split(k: 2, n: 3).place(dataDC: 2, topology: topology, choice: 0)     // [0,2,4] 2-of-3
        // reachable set → (same, other, foreign, split)
        let table: [(DCSet, [Bool], String)] = [
            ([0, 1, 2, 3, 4], [true, true, true, true], "everything up"),
            ([], [false, false, false, false], "nothing reachable"),
            ([0, 1, 3, 4], [false, true, false, true], "dc2 (Amsterdam) out: split still has 0 and 4"),
            ([0, 1, 2, 4], [true, false, true, true], "dc3 out: only other-dc's holder lost"),
            ([2, 3], [true, true, true, false], "EU only: split has 1 of 3 shares"),
            ([0, 1], [false, false, false, false], "US only: split has 1 share (dc0)"),
            ([0, 4], [false, false, false, true], "dc0 + dc4: two shares"),
            ([2, 4], [true, false, true, true], "dc2 + dc4: two shares"),
            ([3, 4], [false, true, false, false], "dc3 + dc4: one share"),
        ]
        for (reachable, expected, why) in table {
            let got = [same, other, foreign, split].map { $0.canDecrypt(reachable: reachable) }
            XCTAssertEqual(got, expected, "reachable \(reachable): \(why)")
            let viaClosure = [same, other, foreign, split].map { p in p.canDecrypt { reachable.contains($0) } }
            XCTAssertEqual(viaClosure, expected, "closure form, reachable \(reachable)")
        }
    }

    func testAdversarySeizureMatchesTheHandWorkedTable() throws {
        let same = try KeyPlacementPolicy.sameDC.place(dataDC: 2, topology: topology, choice: 0)                 // key [2]
        let other = try KeyPlacementPolicy.otherDC.place(dataDC: 2, topology: topology, choice: 0)               // key [3]
        let foreign = try KeyPlacementPolicy.otherJurisdiction.place(dataDC: 0, topology: topology, choice: 0)   // key [2]
        let split = try KeyPlacementPolicy.split(k: 2, n: 3).place(dataDC: 2, topology: topology, choice: 0)     // key 2-of-[0,2,4]
        let us: DCSet = [0, 1], eu: DCSet = [2, 3], sg: DCSet = [4]
        // (placement, seized, data copies' DCs, copies needed, adversary reads?, why)
        let table: [(KeyPlacement, DCSet, [Int], Int, Bool, String)] = [
            (same, eu, [2, 0, 4], 1, true, "same-dc: seizing the data's jurisdiction gets both"),
            (same, [2], [2], 1, true, "same-dc: seizing the one DC is enough"),
            (same, us, [2, 0, 4], 1, false, "US has a replica but not the key"),
            (other, [2], [2, 0, 4], 1, false, "other-dc: the data DC alone lacks the key"),
            (other, eu, [2, 0, 4], 1, true, "other-dc in the same jurisdiction: EU seizure gets both"),
            (other, [3], [2], 1, false, "key without data"),
            (foreign, us, [0, 1], 1, false, "other-jurisdiction: data in US, key in EU"),
            (foreign, eu, [0, 1], 1, false, "EU has the key, no copy"),
            (foreign, eu, [0, 1, 3], 1, true, "EU has the key and the replica in dc3"),
            (foreign, us.union(eu), [0, 1], 1, true, "both jurisdictions"),
            (split, us, [0, 2, 4], 1, false, "split 2-of-3: one share per jurisdiction"),
            (split, eu, [0, 2, 4], 1, false, "EU: one share"),
            (split, sg, [0, 2, 4], 1, false, "SG: one share"),
            (split, us.union(eu), [0, 2, 4], 1, true, "two jurisdictions: two shares and data"),
            (split, us.union(sg), [2, 3], 1, false, "two shares but the data is all in EU"),
            (split, us.union(eu).union(sg), [2], 1, true, "everything"),
            // Erasure-coded data: RS(2, 2) fragments in dcs 0, 2, 3, 4 → the adversary needs 2 of them.
            (same, eu, [0, 2, 3, 4], 2, true, "EU: key and fragments in dc2 and dc3"),
            (same, [2], [0, 2, 3, 4], 2, false, "dc2 only: key, but one fragment"),
            (split, us.union(sg), [0, 2, 3, 4], 2, true, "US+SG: 2 shares and fragments in dc0 and dc4"),
            (split, us.union(sg), [0, 2, 3, 3], 2, false, "US+SG: 2 shares but one fragment"),
        ]
        for (placement, seized, data, needed, expected, why) in table {
            XCTAssertEqual(placement.adversaryCanDecrypt(seized: seized, dataDCs: data, copiesNeeded: needed), expected,
                           "\(placement) seized \(seized) data \(data) need \(needed): \(why)")
        }
    }

    func testImpossiblePlacementsAreRefusedWithAReason() {
        let one = KeyPlacementTopology(jurisdictionOfDC: [0])
        let oneJurisdiction = KeyPlacementTopology(jurisdictionOfDC: [0, 0, 0])
        let cases: [(KeyPlacementPolicy, KeyPlacementTopology)] = [
            (.otherDC, one), (.otherJurisdiction, oneJurisdiction), (.split(k: 2, n: 4), topology),
            (.split(k: 0, n: 2), topology), (.split(k: 3, n: 2), topology),
        ]
        for (policy, topo) in cases {
            XCTAssertThrowsError(try policy.validate(topology: topo), "\(policy)") { e in
                guard case .invalidKeyPlacement = e as? ShardError else { return XCTFail("\(e)") }
                XCTAssertTrue("\(e)".contains(policy.description), "\(e)")
            }
        }
        XCTAssertNoThrow(try KeyPlacementPolicy.sameDC.validate(topology: one))
        XCTAssertNoThrow(try KeyPlacementPolicy.split(k: 3, n: 3).validate(topology: topology))
    }

    func testPlacementIsDeterministicAndSpreadsOverCandidates() throws {
        var counts = [Int](repeating: 0, count: 5)
        for choice in UInt64(0)..<300 {
            let a = try KeyPlacementPolicy.otherJurisdiction.place(dataDC: 4, topology: topology, choice: choice)
            let b = try KeyPlacementPolicy.otherJurisdiction.place(dataDC: 4, topology: topology, choice: choice)
            XCTAssertEqual(a, b)
            XCTAssertNotEqual(topology.jurisdictionOfDC[a.holders[0]], 2)
            counts[a.holders[0]] += 1
        }
        XCTAssertEqual(counts, [75, 75, 75, 75, 0])
    }

    func testDCSetBehavesAsASet() {
        var s: DCSet = [3, 70, 1]
        XCTAssertEqual(Array(s), [1, 3, 70])
        XCTAssertEqual(s.count, 3)
        XCTAssertTrue(s.contains(70) && !s.contains(2) && !s.contains(-1) && !s.contains(500))
        s.remove(70)
        XCTAssertEqual(s, [1, 3], "equal after removing the high bit (no trailing zero words)")
        XCTAssertEqual(s.union([2]), [1, 2, 3])
        XCTAssertEqual("\(s)", "{1, 3}")
        XCTAssertEqual(DCSet.all(3), [0, 1, 2])
    }
}
