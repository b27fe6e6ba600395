using Strix.Eval;

namespace Strix.Tests.Eval;

public class LinearAssignmentTests
{
    // Minimum over all ways to give each row of the smaller side a distinct column.
    static double BruteForce(double[,] c)
    {
        int r = c.GetLength(0), k = c.GetLength(1);
        bool wide = r <= k;
        int n = wide ? r : k, m = wide ? k : r;
        double At(int i, int j) => wide ? c[i, j] : c[j, i];
        double best = double.PositiveInfinity;
        var used = new bool[m];
        void Go(int i, double acc)
        {
            if (i == n) { best = Math.Min(best, acc); return; }
            for (int j = 0; j < m; j++)
                if (!used[j]) { used[j] = true; Go(i + 1, acc + At(i, j)); used[j] = false; }
        }
        Go(0, 0);
        return best;
    }

    // Thresholded objective: matched cost plus limit/2 per unmatched row and column, pairs above the limit forbidden.
    static double BruteForceLimited(double[,] c, double limit)
    {
        int r = c.GetLength(0), k = c.GetLength(1);
        double best = double.PositiveInfinity;
        var used = new bool[k];
        void Go(int i, double acc, int matched)
        {
            if (i == r) { best = Math.Min(best, acc + (r - matched + k - matched) * limit / 2); return; }
            Go(i + 1, acc, matched);
            for (int j = 0; j < k; j++)
                if (!used[j] && c[i, j] <= limit) { used[j] = true; Go(i + 1, acc + c[i, j], matched + 1); used[j] = false; }
        }
        Go(0, 0, 0);
        return best;
    }

    [Theory]
    [InlineData(4, 4)]
    [InlineData(3, 6)]
    [InlineData(6, 3)]
    [InlineData(1, 5)]
    [InlineData(5, 1)]
    public void Solve_finds_the_brute_force_minimum(int rows, int cols)
    {
        var rng = new Random(rows * 31 + cols);
        for (int trial = 0; trial < 40; trial++)
        {
            var c = new double[rows, cols];
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++) c[i, j] = trial % 3 == 0 ? rng.Next(4) : rng.NextDouble() * 10 - 2; // ties and negatives too
            var a = LinearAssignment.Solve(c);
            Assert.Equal(rows, a.Length);
            var taken = a.Where(j => j >= 0).ToList();
            Assert.Equal(Math.Min(rows, cols), taken.Count);
            Assert.Equal(taken.Count, taken.Distinct().Count());
            double total = a.Select((j, i) => j >= 0 ? c[i, j] : 0).Sum();
            Assert.Equal(BruteForce(c), total, 9);
        }
    }

    [Theory]
    [InlineData(3, 3, 0.5)]
    [InlineData(2, 5, 0.8)]
    [InlineData(5, 2, 0.3)]
    [InlineData(4, 4, 0.05)]
    public void Thresholded_solve_matches_the_brute_force_optimum_and_never_takes_a_pair_above_the_limit(int rows, int cols, double limit)
    {
        var rng = new Random(rows * 7 + cols);
        for (int trial = 0; trial < 40; trial++)
        {
            var c = new double[rows, cols];
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++) c[i, j] = rng.NextDouble();
            var r = LinearAssignment.Solve(c, limit);
            Assert.All(r.Matches, m => Assert.True(c[m.Row, m.Col] <= limit));
            Assert.Equal(rows, r.Matches.Count + r.UnmatchedRows.Count);
            Assert.Equal(cols, r.Matches.Count + r.UnmatchedCols.Count);
            Assert.Equal(r.Matches.Count, r.Matches.Select(m => m.Col).Distinct().Count());
            double got = r.Matches.Sum(m => c[m.Row, m.Col]) + (r.UnmatchedRows.Count + r.UnmatchedCols.Count) * limit / 2;
            Assert.Equal(BruteForceLimited(c, limit), got, 9);
        }
    }

    [Fact]
    public void A_sparse_crowd_solved_group_by_group_costs_what_the_whole_extended_problem_costs()
    {
        // 120 tracks × 110 detections, each track near a few detections (tracking's shape): the grouped solve must reach
        // the optimum of the one big (rows + cols) extension.
        var rng = new Random(5);
        const double limit = 0.8;
        for (int trial = 0; trial < 5; trial++)
        {
            int rows = 120, cols = 110;
            var c = new double[rows, cols];
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++) c[i, j] = Math.Abs(i - j * 1.1) < 3 && rng.NextDouble() < 0.6 ? rng.NextDouble() : 1.0;
            double Total(IEnumerable<(int Row, int Col)> m)
            {
                var list = m.ToList();
                return list.Sum(p => c[p.Row, p.Col]) + (rows + cols - 2 * list.Count) * limit / 2;
            }
            var grouped = LinearAssignment.Solve(c, limit);
            Assert.Equal(Total(LinearAssignment.SolveExtended(c, limit)), Total(grouped.Matches), 9);
            Assert.Equal(rows, grouped.Matches.Count + grouped.UnmatchedRows.Count);
            Assert.Equal(cols, grouped.Matches.Count + grouped.UnmatchedCols.Count);
        }
    }

    [Fact]
    public void Hand_case_prefers_the_cheaper_total_over_the_greedy_pick()
    {
        // Greedy takes (0,0)=1 and is left with (1,1)=10; the optimum is (0,1)+(1,0) = 2 + 3.
        var c = new double[,] { { 1, 2 }, { 3, 10 } };
        Assert.Equal(new[] { 1, 0 }, LinearAssignment.Solve(c));
        // With limit 2.5 the pair (1,0)=3 is forbidden: (0,0) alone costs 1 + 2·1.25 = 3.5 < (0,1) alone (2 + 2.5).
        var r = LinearAssignment.Solve(c, 2.5);
        Assert.Equal(new[] { (0, 0) }, r.Matches);
        Assert.Equal(new[] { 1 }, r.UnmatchedRows);
        Assert.Equal(new[] { 1 }, r.UnmatchedCols);
    }

    [Fact]
    public void Empty_sides_leave_everything_unmatched_and_NaN_is_refused()
    {
        var r = LinearAssignment.Solve(new double[0, 3], 0.5);
        Assert.Empty(r.Matches);
        Assert.Equal(new[] { 0, 1, 2 }, r.UnmatchedCols);
        Assert.Equal(new[] { -1, -1 }, LinearAssignment.Solve(new double[2, 0]));
        Assert.Throws<ArgumentException>(() => LinearAssignment.Solve(new double[,] { { double.NaN } }));
        // Infinite costs are "never unless forced".
        Assert.Equal(new[] { 1, 0 }, LinearAssignment.Solve(new double[,] { { double.PositiveInfinity, 1 }, { 1, double.PositiveInfinity } }));
    }
}
