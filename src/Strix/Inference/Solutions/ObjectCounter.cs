using System.Globalization;

namespace Strix.Inference.Solutions;

/// <summary>Counts of one class: objects that went in and out.</summary>
public sealed record ClassCount(int ClassId, string Name, int In, int Out);

/// <summary>
/// Counts tracked objects crossing a line, or entering and leaving a polygon zone, once per track, per class
/// (Ultralytics' <c>solutions.ObjectCounter</c>: a track's first crossing counts, so a box jittering on the line or
/// an object turning back is not counted twice). The point followed is the box centre, compared between the frames a
/// track is seen in, so a crossing is counted even when the object was hidden at the moment it crossed.
/// </summary>
/// <remarks>
/// Line: the direction follows Ultralytics' rule, by the line's axis whichever way it was drawn: over a mostly
/// vertical line moving right is "in", over a mostly horizontal one moving down is "in". The movement must go
/// through the segment itself, not its extension.
/// Zone: from outside to inside is "in", inside to outside is "out"; a track first seen inside is not counted
/// until it leaves.
/// </remarks>
public sealed class ObjectCounter
{
    readonly (double X, double Y)[] _region;
    readonly Dictionary<int, (double X, double Y)> _last = new();
    readonly HashSet<int> _counted = new();
    readonly Dictionary<int, (int In, int Out)> _byClass = new();
    readonly Dictionary<int, long> _lastSeen = new();
    long _frame;

    /// <param name="region">Two points (a line) or three or more (a polygon zone), in image pixels.</param>
    public ObjectCounter(IReadOnlyList<(double X, double Y)> region)
    {
        if (region.Count < 2) throw new ArgumentException("region: give 2 points for a line or at least 3 for a zone");
        if (region.Any(p => !double.IsFinite(p.X) || !double.IsFinite(p.Y))) throw new ArgumentException("region: coordinates must be finite");
        _region = region.ToArray();
        if (IsLine && _region[0] == _region[1]) throw new ArgumentException("region: the two points of a line must differ");
    }

    /// <summary>
    /// Parses <c>x1,y1,x2,y2[,x3,y3,…]</c> (pixels) as given on the command line; an error names the argument.
    /// </summary>
    public static IReadOnlyList<(double X, double Y)> ParseRegion(string text, string argument = "region")
    {
        var parts = text.Trim('[', ']', ' ').Split(new[] { ',', ' ', ';' }, StringSplitOptions.RemoveEmptyEntries);
        var values = new double[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!double.TryParse(parts[i].Trim('(', ')', '[', ']'), NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !double.IsFinite(values[i]))
                throw new ArgumentException($"{argument}={text}: '{parts[i]}' is not a number");
        if (values.Length < 4 || values.Length % 2 != 0)
            throw new ArgumentException($"{argument}={text}: expected x1,y1,x2,y2 for a line or at least three x,y points for a zone");
        return Enumerable.Range(0, values.Length / 2).Select(i => (values[2 * i], values[2 * i + 1])).ToList();
    }

    /// <summary>
    /// A track unseen for this many updates is forgotten (its last position and whether it was counted), so a
    /// camera that runs for days keeps a bounded state. Track ids are never reused, so a forgotten track cannot be
    /// counted twice; keep this above the tracker's <c>track_buffer</c>.
    /// </summary>
    public int ForgetAfterFrames { get; init; } = 900;

    /// <summary>Tracks whose last position is remembered.</summary>
    public int Remembered => _last.Count;

    public bool IsLine => _region.Length == 2;
    public IReadOnlyList<(double X, double Y)> Region => _region;

    public int InCount => _byClass.Values.Sum(c => c.In);
    public int OutCount => _byClass.Values.Sum(c => c.Out);

    /// <summary>Counts per class seen crossing, ordered by class id.</summary>
    public IReadOnlyList<ClassCount> Counts(IReadOnlyList<string> names) => _byClass.OrderBy(k => k.Key)
        .Select(k => new ClassCount(k.Key, k.Key < names.Count ? names[k.Key] : k.Key.ToString(CultureInfo.InvariantCulture), k.Value.In, k.Value.Out)).ToList();

    /// <summary>Takes one frame's tracked objects; returns the crossings counted in it as (track id, in?).</summary>
    public IReadOnlyList<(int TrackId, bool In)> Update(IEnumerable<(int TrackId, int ClassId, double X, double Y)> centres)
    {
        var events = new List<(int, bool)>();
        _frame++;
        foreach (var (id, cls, x, y) in centres)
        {
            _lastSeen[id] = _frame;
            if (_last.TryGetValue(id, out var prev))
            {
                bool? dir = IsLine ? CrossesLine(prev, (x, y)) : CrossesZone(prev, (x, y));
                if (dir is bool isIn && _counted.Add(id))
                {
                    var c = _byClass.GetValueOrDefault(cls);
                    _byClass[cls] = isIn ? (c.In + 1, c.Out) : (c.In, c.Out + 1);
                    events.Add((id, isIn));
                }
            }
            // A centre exactly on the line belongs to neither side: remember the last one that was on a side.
            if (!IsLine || Side(_region[0], _region[1], (x, y)) != 0 || !_last.ContainsKey(id)) _last[id] = (x, y);
        }
        if (_frame % 64 == 0) Forget();
        return events;
    }

    /// <summary>Takes a frame's results (tracked detections); untracked detections are ignored.</summary>
    public IReadOnlyList<(int TrackId, bool In)> Update(Results results) =>
        Update(results.Detections.Where(d => d.TrackId is not null).Select(d => (d.TrackId!.Value, d.ClassId, (double)d.Box.CenterX, (double)d.Box.CenterY)));

    void Forget()
    {
        foreach (var (id, seen) in _lastSeen.Where(kv => _frame - kv.Value > ForgetAfterFrames).ToList())
        {
            _lastSeen.Remove(id); _last.Remove(id); _counted.Remove(id);
        }
    }

    /// <summary>Forgets tracks and counts.</summary>
    public void Reset() { _last.Clear(); _counted.Clear(); _byClass.Clear(); _lastSeen.Clear(); _frame = 0; }

    // Side of p relative to the directed line a→b: in y-down image coordinates, > 0 on the walker's right.
    static double Side((double X, double Y) a, (double X, double Y) b, (double X, double Y) p) =>
        (b.X - a.X) * (p.Y - a.Y) - (b.Y - a.Y) * (p.X - a.X);

    bool? CrossesLine((double X, double Y) from, (double X, double Y) to)
    {
        var (a, b) = (_region[0], _region[1]);
        double s0 = Side(a, b, from), s1 = Side(a, b, to);
        if (s0 == 0 || s1 == 0 || (s0 > 0) == (s1 > 0)) return null;
        // The movement must also straddle the counting segment's own line (it passes through the segment).
        double t0 = Side(from, to, a), t1 = Side(from, to, b);
        if (t0 != 0 && t1 != 0 && (t0 > 0) == (t1 > 0)) return null;
        // Ultralytics' rule: over a mostly vertical line moving right is "in", over a mostly horizontal one moving down.
        bool vertical = Math.Abs(b.X - a.X) < Math.Abs(b.Y - a.Y);
        return vertical ? to.X > from.X : to.Y > from.Y;
    }

    bool? CrossesZone((double X, double Y) from, (double X, double Y) to)
    {
        bool was = InPolygon(from), now = InPolygon(to);
        return was == now ? null : now;
    }

    bool InPolygon((double X, double Y) p)
    {
        bool inside = false;
        for (int i = 0, j = _region.Length - 1; i < _region.Length; j = i++)
            if ((_region[i].Y > p.Y) != (_region[j].Y > p.Y) &&
                p.X < (_region[j].X - _region[i].X) * (p.Y - _region[i].Y) / (_region[j].Y - _region[i].Y) + _region[i].X)
                inside = !inside;
        return inside;
    }
}
