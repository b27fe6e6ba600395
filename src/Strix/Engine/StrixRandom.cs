using System.Text.Json.Nodes;

namespace Strix.Engine;

/// <summary>
/// A small seedable PRNG (xoshiro256**) whose whole state can be saved and restored, unlike
/// <see cref="System.Random"/>. Use it for every random choice the training run owns, so a resumed run
/// draws exactly the numbers the uninterrupted run would have.
/// </summary>
public sealed class StrixRandom
{
    ulong _s0, _s1, _s2, _s3;

    public StrixRandom(long seed) { Reseed(seed); }

    /// <summary>Resets the state from a seed (SplitMix64 expansion, as the xoshiro authors recommend).</summary>
    public void Reseed(long seed)
    {
        ulong x = (ulong)seed;
        _s0 = SplitMix(ref x); _s1 = SplitMix(ref x); _s2 = SplitMix(ref x); _s3 = SplitMix(ref x);
    }

    static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, maxExclusive) without modulo bias.</summary>
    public int Next(int maxExclusive)
    {
        if (maxExclusive <= 0) throw new ArgumentOutOfRangeException(nameof(maxExclusive));
        ulong bound = (ulong)maxExclusive, threshold = (0UL - bound) % bound;
        while (true)
        {
            ulong r = NextUInt64();
            if (r >= threshold) return (int)(r % bound);
        }
    }

    /// <summary>Uniform in [min, max).</summary>
    public double Uniform(double min, double max) => min + (max - min) * NextDouble();

    /// <summary>Fisher–Yates shuffle in place.</summary>
    public void Shuffle<T>(IList<T> list)
    {
        for (int i = list.Count - 1; i > 0; i--)
        {
            int j = Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
    }

    public JsonArray GetState() => new(_s0.ToString(), _s1.ToString(), _s2.ToString(), _s3.ToString());

    public void SetState(JsonArray state)
    {
        if (state.Count != 4) throw new InvalidDataException("a StrixRandom state has 4 words");
        _s0 = ulong.Parse((string)state[0]!); _s1 = ulong.Parse((string)state[1]!);
        _s2 = ulong.Parse((string)state[2]!); _s3 = ulong.Parse((string)state[3]!);
    }
}
