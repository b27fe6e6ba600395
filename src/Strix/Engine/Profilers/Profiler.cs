namespace Strix.Engine.Profilers;

/// <summary>
/// Times the trainer's actions (Lightning's <c>Profiler</c>): the trainer and modules wrap each piece of
/// a step in <c>using (profiler.Profile("backward")) …</c>. The base class profiles nothing; see
/// <see cref="SimpleProfiler"/> for the one that records and reports.
/// </summary>
public class Profiler
{
    /// <summary>A profiler that records nothing (the default: no cost beyond a virtual call).</summary>
    public static readonly Profiler None = new();

    /// <summary>True when <see cref="Profile"/> records anything.</summary>
    public virtual bool Enabled => false;

    /// <summary>Starts timing <paramref name="action"/>; disposing the result stops it. Actions may nest.</summary>
    public virtual IDisposable? Profile(string action) => null;

    /// <summary>A human-readable report of what was recorded (empty when nothing was).</summary>
    public virtual string Summary() => "";
}
