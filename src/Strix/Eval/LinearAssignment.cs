namespace Strix.Eval;

/// <summary>The pairs a thresholded assignment chose, and the rows and columns it left alone.</summary>
public sealed record AssignmentResult(IReadOnlyList<(int Row, int Col)> Matches, IReadOnlyList<int> UnmatchedRows, IReadOnlyList<int> UnmatchedCols);

/// <summary>
/// Optimal linear assignment (minimum total cost), by the shortest-augmenting-path method of Jonker and
/// Volgenant with dual potentials: O(n²m) for n rows ≤ m columns. The thresholded form behaves as
/// <c>lap.lapjv(cost, extend_cost=True, cost_limit=limit)</c>, which ByteTrack and Ultralytics use: a pair
/// costing more than the limit is never chosen, and leaving a row or a column unmatched costs limit/2.
/// </summary>
public static class LinearAssignment
{
    /// <summary>
    /// Assigns every row of the smaller side at minimum total cost; returns the column of each row, or −1
    /// for rows left over when there are more rows than columns.
    /// </summary>
    public static int[] Solve(double[,] cost)
    {
        int rows = cost.GetLength(0), cols = cost.GetLength(1);
        if (rows == 0 || cols == 0) return Enumerable.Repeat(-1, rows).ToArray();
        foreach (var c in cost)
            if (double.IsNaN(c)) throw new ArgumentException("assignment cost matrix contains NaN");
        if (rows <= cols) return SolveWide(cost, rows, cols, transposed: false);
        var colToRow = SolveWide(cost, cols, rows, transposed: true);
        var rowToCol = Enumerable.Repeat(-1, rows).ToArray();
        for (int j = 0; j < cols; j++) rowToCol[colToRow[j]] = j;
        return rowToCol;
    }

    /// <summary>
    /// Minimum-cost matching in which a pair may be chosen only if its cost is at most <paramref name="limit"/>
    /// and an unmatched row or column costs <paramref name="limit"/>/2 (so a pair is taken exactly when it
    /// beats leaving both ends alone).
    /// </summary>
    public static AssignmentResult Solve(double[,] cost, double limit)
    {
        int rows = cost.GetLength(0), cols = cost.GetLength(1);
        foreach (var c in cost)
            if (double.IsNaN(c)) throw new ArgumentException("assignment cost matrix contains NaN");
        // Unmatched ends cost the same everywhere, so the optimum splits over the connected groups of allowed pairs
        // (cost ≤ limit): each group is solved alone, and a row or column with no allowed pair stays unmatched. Tracking's
        // costs are sparse (a track overlaps a few detections), so this keeps a crowded frame far below (rows + cols)³.
        var parent = Enumerable.Range(0, rows + cols).ToArray();
        int Find(int x) { while (parent[x] != x) x = parent[x] = parent[parent[x]]; return x; }
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                if (cost[i, j] <= limit) parent[Find(i)] = Find(rows + j);
        var groups = new Dictionary<int, (List<int> Rows, List<int> Cols)>();
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                if (cost[i, j] <= limit) { groups.TryAdd(Find(i), (new List<int>(), new List<int>())); break; }
        for (int i = 0; i < rows; i++) if (groups.TryGetValue(Find(i), out var g)) g.Rows.Add(i);
        for (int j = 0; j < cols; j++) if (groups.TryGetValue(Find(rows + j), out var g)) g.Cols.Add(j);

        var matches = new List<(int, int)>();
        foreach (var (gRows, gCols) in groups.Values)
        {
            var sub = new double[gRows.Count, gCols.Count];
            for (int a = 0; a < gRows.Count; a++)
                for (int b = 0; b < gCols.Count; b++) sub[a, b] = cost[gRows[a], gCols[b]];
            foreach (var (a, b) in SolveExtended(sub, limit)) matches.Add((gRows[a], gCols[b]));
        }
        matches.Sort();
        var rowDone = new bool[rows];
        var colDone = new bool[cols];
        foreach (var (i, j) in matches) { rowDone[i] = true; colDone[j] = true; }
        return new AssignmentResult(matches,
            Enumerable.Range(0, rows).Where(i => !rowDone[i]).ToArray(),
            Enumerable.Range(0, cols).Where(j => !colDone[j]).ToArray());
    }

    /// <summary>
    /// The thresholded problem solved whole, as lapjv's extend_cost does: a square (rows + cols) extension with the real
    /// pairs top-left, the "unmatched" dummies at limit/2 and dummy-dummy pairs free. Returns the chosen real pairs.
    /// </summary>
    internal static List<(int Row, int Col)> SolveExtended(double[,] cost, double limit)
    {
        int rows = cost.GetLength(0), cols = cost.GetLength(1);
        var matches = new List<(int, int)>();
        if (rows == 0 || cols == 0) return matches;
        int n = rows + cols;
        var ext = new double[n, n];
        double half = limit / 2, forbidden = limit * 2 + 1;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                if (i < rows && j < cols) ext[i, j] = cost[i, j] > limit ? forbidden : cost[i, j];
                else if (i < rows || j < cols) ext[i, j] = half;
            }
        var assigned = SolveWide(ext, n, n, transposed: false);
        for (int i = 0; i < rows; i++)
        {
            int j = assigned[i];
            if (j < cols && cost[i, j] <= limit) matches.Add((i, j));
        }
        return matches;
    }

    // n ≤ m. Returns, for each of the n rows, its column. With transposed, row i reads cost[j, i].
    static int[] SolveWide(double[,] cost, int n, int m, bool transposed)
    {
        // Infinite costs become a finite "never" larger than any real total, so the potentials stay finite.
        double big = 1;
        foreach (var c in cost) if (!double.IsInfinity(c)) big = Math.Max(big, Math.Abs(c));
        big = big * (n + 1) * 4;
        double At(int i, int j)
        {
            var c = transposed ? cost[j, i] : cost[i, j];
            return double.IsPositiveInfinity(c) ? big : double.IsNegativeInfinity(c) ? -big : c;
        }

        // 1-based: column 0 is the virtual start of each augmenting path; p[j] is the row owning column j.
        var u = new double[n + 1];
        var v = new double[m + 1];
        var p = new int[m + 1];
        var way = new int[m + 1];
        var minv = new double[m + 1];
        var used = new bool[m + 1];
        for (int i = 1; i <= n; i++)
        {
            p[0] = i;
            int j0 = 0;
            Array.Fill(minv, double.PositiveInfinity);
            Array.Clear(used);
            do
            {
                used[j0] = true;
                int i0 = p[j0], j1 = 0;
                double delta = double.PositiveInfinity;
                for (int j = 1; j <= m; j++)
                {
                    if (used[j]) continue;
                    double cur = At(i0 - 1, j - 1) - u[i0] - v[j];
                    if (cur < minv[j]) { minv[j] = cur; way[j] = j0; }
                    if (minv[j] < delta) { delta = minv[j]; j1 = j; }
                }
                for (int j = 0; j <= m; j++)
                {
                    if (used[j]) { u[p[j]] += delta; v[j] -= delta; }
                    else minv[j] -= delta;
                }
                j0 = j1;
            } while (p[j0] != 0);
            do { int j1 = way[j0]; p[j0] = p[j1]; j0 = j1; } while (j0 != 0);
        }
        var result = new int[n];
        for (int j = 1; j <= m; j++) if (p[j] != 0) result[p[j] - 1] = j - 1;
        return result;
    }
}
