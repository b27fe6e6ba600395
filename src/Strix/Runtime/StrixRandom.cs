using System.Globalization;
using System.Numerics;
using System.Text.Json.Nodes;

namespace Strix.Runtime;

/// <summary>
/// Strix's one random generator: small, fast and reproducible (xoshiro256** seeded through SplitMix64),
/// with a state that can be saved and restored, unlike <see cref="System.Random"/>. Every augmented sample
/// gets its own generator derived from <c>(seed, epoch, index, stream)</c>, so what a sample looks like never
/// depends on which worker made it, how many workers there are, or in what order they ran; the
/// <see cref="RandomStreams"/> name the streams. Its sequence is fixed by this code (not by the .NET runtime version).
/// </summary>
public sealed class StrixRandom
{
    ulong _s0, _s1, _s2, _s3;

    /// <summary>A generator for one sample: mixes all four keys so that neighbouring indices and epochs are unrelated.</summary>
    public StrixRandom(long seed, long epoch = 0, long index = 0, long stream = 0)
    {
        ulong x = SplitMix((ulong)seed ^ 0x5DEECE66DUL);
        x = SplitMix(x ^ (ulong)epoch * 0x9E3779B97F4A7C15UL);
        x = SplitMix(x ^ (ulong)index * 0xC2B2AE3D27D4EB4FUL);
        x = SplitMix(x ^ (ulong)stream * 0x165667B19E3779F9UL);
        _s0 = SplitMix(ref x); _s1 = SplitMix(ref x); _s2 = SplitMix(ref x); _s3 = SplitMix(ref x);
    }

    static ulong SplitMix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    static ulong SplitMix(ref ulong state)
    {
        state += 0x9E3779B97F4A7C15UL;
        ulong z = state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Next raw 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [lo, hi).</summary>
    public double Uniform(double lo, double hi) => lo + (hi - lo) * NextDouble();

    /// <summary>Uniform integer in [0, n).</summary>
    public int NextInt(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n));
        return (int)((NextUInt64() >> 33) * (ulong)n >> 31);
    }

    /// <summary>Uniform integer in [lo, hi).</summary>
    public int NextInt(int lo, int hi) => lo + NextInt(hi - lo);

    /// <summary>True with probability <paramref name="p"/>.</summary>
    public bool Chance(double p) => p > 0 && NextDouble() < p;

    /// <summary>Standard normal (Box–Muller).</summary>
    public double Normal()
    {
        double u1 = 1.0 - NextDouble(), u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Gamma(shape, 1) by Marsaglia and Tsang's method (shape ≥ 1).</summary>
    public double Gamma(double shape)
    {
        if (shape < 1) return Gamma(shape + 1) * Math.Pow(NextDouble(), 1.0 / shape);
        double d = shape - 1.0 / 3, c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double x, v;
            do { x = Normal(); v = 1 + c * x; } while (v <= 0);
            v = v * v * v;
            double u = NextDouble();
            if (u < 1 - 0.0331 * x * x * x * x) return d * v;
            if (Math.Log(u) < 0.5 * x * x + d * (1 - v + Math.Log(v))) return d * v;
        }
    }

    /// <summary>Beta(a, b), used by MixUp (Ultralytics draws its blend ratio from Beta(32, 32)).</summary>
    public double Beta(double a, double b)
    {
        double x = Gamma(a), y = Gamma(b);
        return x / (x + y);
    }

    /// <summary>A random permutation of 0..n-1 (Fisher–Yates).</summary>
    public int[] Permutation(int n)
    {
        var p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (p[i], p[j]) = (p[j], p[i]);
        }
        return p;
    }

    /// <summary>Fisher–Yates shuffle in place (the same draws as <see cref="Permutation"/>).</summary>
    public void Shuffle<T>(IList<T> list)
    {
        for (int i = list.Count - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
    }

    /// <summary>The four state words (as strings: JSON numbers cannot hold 64 bits).</summary>
    public JsonArray GetState() => new(_s0.ToString(CultureInfo.InvariantCulture), _s1.ToString(CultureInfo.InvariantCulture),
        _s2.ToString(CultureInfo.InvariantCulture), _s3.ToString(CultureInfo.InvariantCulture));

    /// <summary>Continues from a <see cref="GetState"/>.</summary>
    public void SetState(JsonArray state)
    {
        if (state.Count != 4) throw new InvalidDataException($"a {nameof(StrixRandom)} state has 4 words, not {state.Count}");
        ulong W(int i) => ulong.Parse((string?)state[i] ?? throw new InvalidDataException("empty state word"), CultureInfo.InvariantCulture);
        (_s0, _s1, _s2, _s3) = (W(0), W(1), W(2), W(3));
    }
}

/// <summary>The stream numbers of <see cref="StrixRandom"/>: independent sequences for the same (seed, epoch, index).</summary>
public static class RandomStreams
{
    /// <summary>A sample's augmentation (mosaic, perspective, HSV, flips, MixUp's blend).</summary>
    public const long Augment = 0;
    /// <summary>The MixUp partner's own mosaic.</summary>
    public const long MixUpPartner = 1;
    /// <summary>The epoch's visiting order (index −1: one per epoch).</summary>
    public const long EpochOrder = 7;
    /// <summary>The built-in shapes dataset's images.</summary>
    public const long Shapes = 0x5A;
    /// <summary>The built-in shapes-seg dataset's images (its own scenes, not shapes' with other labels).</summary>
    public const long ShapesSeg = 0x5B;
}
