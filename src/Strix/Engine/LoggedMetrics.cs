namespace Strix.Engine;

/// <summary>
/// What modules and callbacks log during an epoch, by phase: training means, validation metrics, and
/// end-of-epoch values (learning rates). A training step's logs are held back until its loss is known
/// to be finite, so a skipped step leaves no trace in the epoch's means.
/// </summary>
internal sealed class LoggedMetrics
{
    public readonly record struct Entry(string Name, double Value, bool ProgBar, bool OnStep, bool OnEpoch);

    List<Entry>? _held;

    public EpochMetrics Train { get; } = new();
    public EpochMetrics Val { get; } = new();
    public EpochMetrics EpochEnd { get; } = new();

    /// <summary>The metrics a value logged in <paramref name="phase"/> goes to.</summary>
    public EpochMetrics For(TrainerPhase phase) => phase switch
    {
        TrainerPhase.Validate => Val,
        TrainerPhase.EpochEnd => EpochEnd,
        _ => Train,
    };

    /// <summary>From now on <see cref="TryHold"/> keeps entries until <see cref="Release"/> or <see cref="Drop"/>.</summary>
    public void Hold() => _held = new();

    /// <summary>Keeps <paramref name="e"/> while holding; false when not holding (commit it now).</summary>
    public bool TryHold(Entry e)
    {
        if (_held is null) return false;
        _held.Add(e);
        return true;
    }

    /// <summary>Ends holding and returns what was held (to commit).</summary>
    public List<Entry> Release()
    {
        var held = _held ?? new List<Entry>();
        _held = null;
        return held;
    }

    /// <summary>Ends holding and forgets what was held (the step failed or was skipped).</summary>
    public void Drop() => _held = null;

    /// <summary>The epoch's row: training means, then validation, then end-of-epoch values; the first of a name wins.</summary>
    public IEnumerable<KeyValuePair<string, double>> Row()
    {
        var seen = new HashSet<string>();
        foreach (var src in new[] { Train, Val, EpochEnd })
            foreach (var kv in src.EpochValues())
                if (seen.Add(kv.Key)) yield return kv;
    }

    public void Clear() { Train.Clear(); Val.Clear(); EpochEnd.Clear(); }
}
