namespace Strix.Eval;

/// <summary>One box with an identity (a ground-truth object or a tracker hypothesis) in one frame.</summary>
public readonly record struct IdentifiedBox(int Id, double X1, double Y1, double X2, double Y2)
{
    /// <summary>Intersection over union (0 for empty boxes).</summary>
    public double Iou(IdentifiedBox o) => BoxOps.Iou(X1, Y1, X2, Y2, o.X1, o.Y1, o.X2, o.Y2);
}

/// <summary>
/// CLEAR-MOT and identity metrics of a tracker over one sequence:
/// MOTA = 1 − (misses + false positives + identity switches) / ground-truth boxes (Bernardin and Stiefelhagen, 2008),
/// MOTP as the mean IoU of matched pairs, and IDF1 = 2·IDTP / (2·IDTP + IDFP + IDFN) over the best one-to-one
/// pairing of whole ground-truth and hypothesis trajectories (Ristani et al., 2016), and HOTA =
/// mean over α ∈ {0.05, 0.10, …, 0.95} of √(DetA·AssA) (Luiten et al., 2021), which weighs detection and
/// association equally and does not depend on one IoU threshold.
/// </summary>
public sealed record TrackingMetrics
{
    public int GroundTruthBoxes { get; init; }
    public int Matches { get; init; }
    public int Misses { get; init; }
    public int FalsePositives { get; init; }
    public int IdSwitches { get; init; }
    /// <summary>Mean IoU of the matched pairs.</summary>
    public double Motp { get; init; }
    public int IdTruePositives { get; init; }
    public int IdFalsePositives { get; init; }
    public int IdFalseNegatives { get; init; }
    /// <summary>Ground-truth objects and hypothesis ids seen.</summary>
    public int GroundTruthIds { get; init; }
    public int HypothesisIds { get; init; }

    /// <summary>Higher-order tracking accuracy, averaged over the 19 localisation thresholds.</summary>
    public double Hota { get; init; }
    /// <summary>HOTA's detection accuracy TP / (TP + FN + FP), averaged over the thresholds.</summary>
    public double DetA { get; init; }
    /// <summary>HOTA's association accuracy, averaged over the thresholds.</summary>
    public double AssA { get; init; }

    public double Mota => GroundTruthBoxes == 0 ? 0 : 1.0 - (double)(Misses + FalsePositives + IdSwitches) / GroundTruthBoxes;
    public double Idf1 => IdTruePositives == 0 ? 0 : 2.0 * IdTruePositives / (2.0 * IdTruePositives + IdFalsePositives + IdFalseNegatives);
    public double IdPrecision => IdTruePositives == 0 ? 0 : (double)IdTruePositives / (IdTruePositives + IdFalsePositives);
    public double IdRecall => IdTruePositives == 0 ? 0 : (double)IdTruePositives / (IdTruePositives + IdFalseNegatives);

    /// <summary>
    /// Scores hypotheses against ground truth, frame by frame (both lists index the same frames). A pair
    /// matches at IoU ≥ <paramref name="iouThreshold"/>. As in the CLEAR-MOT definition, a ground-truth
    /// object keeps last frame's hypothesis while they still overlap enough; the rest are paired by
    /// minimum total (1 − IoU). An identity switch is a ground-truth object matched to a different
    /// hypothesis id than at its previous match.
    /// </summary>
    public static TrackingMetrics Compute(IReadOnlyList<IReadOnlyList<IdentifiedBox>> groundTruth,
        IReadOnlyList<IReadOnlyList<IdentifiedBox>> hypotheses, double iouThreshold = 0.5)
    {
        if (groundTruth.Count != hypotheses.Count)
            throw new ArgumentException($"ground truth has {groundTruth.Count} frames, hypotheses {hypotheses.Count}");
        int gtBoxes = 0, hypBoxes = 0, matches = 0, misses = 0, fps = 0, switches = 0;
        double iouSum = 0;
        var lastMatch = new Dictionary<int, int>();   // gt id → hypothesis id of its previous match
        var gtIds = new List<int>();
        var hypIds = new List<int>();
        var gtIndex = new Dictionary<int, int>();
        var hypIndex = new Dictionary<int, int>();
        var coMatches = new Dictionary<(int Gt, int Hyp), int>(); // frames in which gt and hyp overlap ≥ threshold

        for (int f = 0; f < groundTruth.Count; f++)
        {
            var gts = groundTruth[f];
            var hyps = hypotheses[f];
            CheckUnique(gts, f, "ground truth");
            CheckUnique(hyps, f, "hypothesis");
            gtBoxes += gts.Count; hypBoxes += hyps.Count;
            foreach (var g in gts) if (!gtIndex.ContainsKey(g.Id)) { gtIndex[g.Id] = gtIds.Count; gtIds.Add(g.Id); }
            foreach (var h in hyps) if (!hypIndex.ContainsKey(h.Id)) { hypIndex[h.Id] = hypIds.Count; hypIds.Add(h.Id); }

            var iou = new double[gts.Count, hyps.Count];
            for (int i = 0; i < gts.Count; i++)
                for (int j = 0; j < hyps.Count; j++)
                {
                    iou[i, j] = gts[i].Iou(hyps[j]);
                    if (iou[i, j] >= iouThreshold)
                        coMatches[(gts[i].Id, hyps[j].Id)] = coMatches.GetValueOrDefault((gts[i].Id, hyps[j].Id)) + 1;
                }

            var gtTaken = new bool[gts.Count];
            var hypTaken = new bool[hyps.Count];
            var pairs = new List<(int G, int H)>();
            // Continuations first: a ground-truth object keeps its previous hypothesis while it still matches.
            for (int i = 0; i < gts.Count; i++)
            {
                if (!lastMatch.TryGetValue(gts[i].Id, out var prevHyp)) continue;
                for (int j = 0; j < hyps.Count; j++)
                    if (!hypTaken[j] && hyps[j].Id == prevHyp && iou[i, j] >= iouThreshold)
                    { gtTaken[i] = hypTaken[j] = true; pairs.Add((i, j)); break; }
            }
            var freeG = Enumerable.Range(0, gts.Count).Where(i => !gtTaken[i]).ToList();
            var freeH = Enumerable.Range(0, hyps.Count).Where(j => !hypTaken[j]).ToList();
            if (freeG.Count > 0 && freeH.Count > 0)
            {
                // The free pairs that maximise the summed IoU of valid pairs (TrackEval's CLEAR matching): a pair below the
                // threshold scores 0, so it is never preferred, and is dropped after the assignment.
                var cost = new double[freeG.Count, freeH.Count];
                for (int a = 0; a < freeG.Count; a++)
                    for (int b = 0; b < freeH.Count; b++)
                    {
                        double v = iou[freeG[a], freeH[b]];
                        cost[a, b] = v >= iouThreshold ? -v : 0;
                    }
                var rowToCol = LinearAssignment.Solve(cost);
                for (int a = 0; a < rowToCol.Length; a++)
                    if (rowToCol[a] >= 0 && cost[a, rowToCol[a]] < 0) pairs.Add((freeG[a], freeH[rowToCol[a]]));
            }
            foreach (var (i, j) in pairs)
            {
                int gid = gts[i].Id, hid = hyps[j].Id;
                if (lastMatch.TryGetValue(gid, out var prev) && prev != hid) switches++;
                lastMatch[gid] = hid;
                iouSum += iou[i, j];
            }
            matches += pairs.Count;
            misses += gts.Count - pairs.Count;
            fps += hyps.Count - pairs.Count;
        }

        // IDF1: pair whole trajectories one-to-one to maximise the frames they agree on.
        int idtp = 0;
        if (gtIds.Count > 0 && hypIds.Count > 0)
        {
            var cost = new double[gtIds.Count, hypIds.Count];
            foreach (var ((g, h), n) in coMatches) cost[gtIndex[g], hypIndex[h]] = -n;
            var rowToCol = LinearAssignment.Solve(cost);
            for (int i = 0; i < rowToCol.Length; i++) if (rowToCol[i] >= 0) idtp += (int)-cost[i, rowToCol[i]];
        }
        var (hota, detA, assA) = ComputeHota(groundTruth, hypotheses);
        return new TrackingMetrics
        {
            Hota = hota, DetA = detA, AssA = assA,
            GroundTruthBoxes = gtBoxes, Matches = matches, Misses = misses, FalsePositives = fps, IdSwitches = switches,
            Motp = matches == 0 ? 0 : iouSum / matches,
            IdTruePositives = idtp, IdFalsePositives = hypBoxes - idtp, IdFalseNegatives = gtBoxes - idtp,
            GroundTruthIds = gtIds.Count, HypothesisIds = hypIds.Count,
        };
    }

    // HOTA as its paper defines it: per frame, pairs are chosen by the Hungarian method on IoU weighted by how well the
    // two whole trajectories align overall; at each threshold α a chosen pair with IoU ≥ α is a true positive, and
    // association accuracy scores each true positive by its pair's share of the two trajectories.
    static (double Hota, double DetA, double AssA) ComputeHota(IReadOnlyList<IReadOnlyList<IdentifiedBox>> gt, IReadOnlyList<IReadOnlyList<IdentifiedBox>> hyp)
    {
        const int alphas = 19;
        var gtCount = new Dictionary<int, double>();
        var hypCount = new Dictionary<int, double>();
        var potential = new Dictionary<(int, int), double>();
        var ious = new double[gt.Count][,];
        for (int f = 0; f < gt.Count; f++)
        {
            var iou = ious[f] = new double[gt[f].Count, hyp[f].Count];
            var rowSum = new double[gt[f].Count];
            var colSum = new double[hyp[f].Count];
            for (int i = 0; i < gt[f].Count; i++)
                for (int j = 0; j < hyp[f].Count; j++) { iou[i, j] = gt[f][i].Iou(hyp[f][j]); rowSum[i] += iou[i, j]; colSum[j] += iou[i, j]; }
            foreach (var g in gt[f]) gtCount[g.Id] = gtCount.GetValueOrDefault(g.Id) + 1;
            foreach (var h in hyp[f]) hypCount[h.Id] = hypCount.GetValueOrDefault(h.Id) + 1;
            for (int i = 0; i < gt[f].Count; i++)
                for (int j = 0; j < hyp[f].Count; j++)
                {
                    double denom = rowSum[i] + colSum[j] - iou[i, j];
                    if (denom > 1e-10 && iou[i, j] > 0)
                        potential[(gt[f][i].Id, hyp[f][j].Id)] = potential.GetValueOrDefault((gt[f][i].Id, hyp[f][j].Id)) + iou[i, j] / denom;
                }
        }
        double Alignment(int g, int h)
        {
            double p = potential.GetValueOrDefault((g, h));
            return p == 0 ? 0 : p / (gtCount[g] + hypCount[h] - p);
        }

        var tp = new double[alphas];
        var matches = new Dictionary<(int, int), double>[alphas];
        for (int a = 0; a < alphas; a++) matches[a] = new();
        double gtTotal = gtCount.Values.Sum(), hypTotal = hypCount.Values.Sum();
        for (int f = 0; f < gt.Count; f++)
        {
            int n = gt[f].Count, m = hyp[f].Count;
            if (n == 0 || m == 0) continue;
            var cost = new double[n, m];
            for (int i = 0; i < n; i++)
                for (int j = 0; j < m; j++) cost[i, j] = -Alignment(gt[f][i].Id, hyp[f][j].Id) * ious[f][i, j];
            var rowToCol = LinearAssignment.Solve(cost);
            for (int i = 0; i < n; i++)
            {
                int j = rowToCol[i];
                if (j < 0 || cost[i, j] >= 0) continue;
                for (int a = 0; a < alphas; a++)
                {
                    double alpha = 0.05 * (a + 1);
                    if (ious[f][i, j] < alpha - 1e-10) continue;
                    tp[a]++;
                    var key = (gt[f][i].Id, hyp[f][j].Id);
                    matches[a][key] = matches[a].GetValueOrDefault(key) + 1;
                }
            }
        }
        double hota = 0, detA = 0, assA = 0;
        for (int a = 0; a < alphas; a++)
        {
            double fn = gtTotal - tp[a], fp = hypTotal - tp[a];
            double det = tp[a] == 0 ? 0 : tp[a] / (tp[a] + fn + fp);
            double assSum = matches[a].Sum(kv => kv.Value * kv.Value / (gtCount[kv.Key.Item1] + hypCount[kv.Key.Item2] - kv.Value));
            double ass = tp[a] == 0 ? 0 : assSum / tp[a];
            hota += Math.Sqrt(det * ass) / alphas; detA += det / alphas; assA += ass / alphas;
        }
        return (hota, detA, assA);
    }

    static void CheckUnique(IReadOnlyList<IdentifiedBox> boxes, int frame, string what)
    {
        var seen = new HashSet<int>();
        foreach (var b in boxes)
            if (!seen.Add(b.Id)) throw new ArgumentException($"frame {frame}: {what} id {b.Id} appears twice");
    }

    public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"HOTA {Hota:F3}, MOTA {Mota:F3}, IDF1 {Idf1:F3}, MOTP {Motp:F3}, ID switches {IdSwitches}, misses {Misses}, false positives {FalsePositives} ({GroundTruthBoxes} ground-truth boxes, {GroundTruthIds} objects, {HypothesisIds} track ids)");
}
