using System.Text;

namespace Strix.Eval;

/// <summary>
/// A binary mask in COCO's compressed run-length encoding, the <c>segmentation</c> of a results file that
/// pycocotools' <c>segm</c> evaluation reads: runs over the pixels in column-major order, starting with a run of
/// zeros (possibly empty), written as pycocotools' compact string (five bits per character, each count after the
/// second stored as the difference to the count two before it).
/// </summary>
public sealed record CocoRle(int Height, int Width, string Counts)
{
    /// <summary>Encodes <paramref name="mask"/> (row-major, <paramref name="height"/>×<paramref name="width"/>, non-zero = inside).</summary>
    public static CocoRle Encode(ReadOnlySpan<byte> mask, int height, int width)
    {
        if (mask.Length != height * width) throw new ArgumentException($"a {height}×{width} mask needs {height * width} values, got {mask.Length}", nameof(mask));
        var counts = new List<long>();
        bool current = false;
        long run = 0;
        for (int x = 0; x < width; x++)
            for (int y = 0; y < height; y++)
            {
                bool v = mask[y * width + x] != 0;
                if (v != current) { counts.Add(run); run = 0; current = v; }
                run++;
            }
        counts.Add(run);
        return new CocoRle(height, width, Compress(counts));
    }

    /// <summary>The run lengths, alternating zeros and ones, zeros first.</summary>
    public IReadOnlyList<long> Runs() => Decompress(Counts);

    /// <summary>The mask, row-major 0/1.</summary>
    public byte[] Decode()
    {
        var mask = new byte[Height * Width];
        long pos = 0;
        var runs = Runs();
        for (int r = 0; r < runs.Count; r++)
        {
            if (r % 2 == 1)
                for (long k = pos; k < pos + runs[r]; k++)
                {
                    if (k >= mask.Length) throw new InvalidDataException($"RLE counts cover more than the {Height}×{Width} mask");
                    mask[(k % Height) * Width + k / Height] = 1;
                }
            pos += runs[r];
        }
        if (pos != mask.Length) throw new InvalidDataException($"RLE counts cover {pos} pixels of a {Height}×{Width} mask");
        return mask;
    }

    /// <summary>Pixels inside the mask.</summary>
    public long Area
    {
        get
        {
            var runs = Runs();
            long a = 0;
            for (int r = 1; r < runs.Count; r += 2) a += runs[r];
            return a;
        }
    }

    static string Compress(IReadOnlyList<long> counts)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < counts.Count; i++)
        {
            long x = counts[i] - (i > 2 ? counts[i - 2] : 0);
            bool more = true;
            while (more)
            {
                int c = (int)(x & 0x1f);
                x >>= 5; // arithmetic: negative differences keep their sign
                more = (c & 0x10) != 0 ? x != -1 : x != 0;
                if (more) c |= 0x20;
                sb.Append((char)(c + 48));
            }
        }
        return sb.ToString();
    }

    static List<long> Decompress(string s)
    {
        var counts = new List<long>();
        int p = 0;
        while (p < s.Length)
        {
            long x = 0;
            int k = 0;
            bool more = true;
            while (more)
            {
                if (p >= s.Length) throw new InvalidDataException("RLE counts end inside a number");
                int c = s[p++] - 48;
                if (c < 0 || c > 63) throw new InvalidDataException($"RLE counts hold the character '{s[p - 1]}'");
                x |= (long)(c & 0x1f) << (5 * k);
                more = (c & 0x20) != 0;
                k++;
                if (!more && (c & 0x10) != 0) x |= -1L << (5 * k);
            }
            if (counts.Count > 2) x += counts[^2];
            counts.Add(x);
        }
        return counts;
    }
}
