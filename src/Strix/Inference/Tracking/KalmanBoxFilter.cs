namespace Strix.Inference.Tracking;

/// <summary>Which box coordinates the filter's state holds (ByteTrack: aspect and height; BoT-SORT: width and height).</summary>
public enum BoxStateForm
{
    /// <summary>(cx, cy, w/h, h): the aspect ratio changes slowly, so it gets a small fixed noise.</summary>
    Xyah,
    /// <summary>(cx, cy, w, h): width and height noise both scale with the box.</summary>
    Xywh,
}

/// <summary>Mean and covariance of one track's 8-dimensional state (four box coordinates and their velocities).</summary>
public sealed class KalmanState
{
    internal KalmanState(double[] mean, double[,] covariance) { Mean = mean; Covariance = covariance; }
    /// <summary>[4 box coordinates, 4 velocities].</summary>
    public double[] Mean { get; }
    /// <summary>8×8.</summary>
    public double[,] Covariance { get; }
}

/// <summary>
/// The constant-velocity Kalman filter of SORT-family trackers, in image space: the state is the box (in
/// <see cref="Form"/>) and its velocity, one time step per frame; process and measurement noise scale with
/// the box height (and width for <see cref="BoxStateForm.Xywh"/>), with SORT's weights 1/20 for positions
/// and 1/160 for velocities.
/// </summary>
public sealed class KalmanBoxFilter
{
    const double PositionWeight = 1.0 / 20, VelocityWeight = 1.0 / 160;

    public KalmanBoxFilter(BoxStateForm form = BoxStateForm.Xyah) => Form = form;

    public BoxStateForm Form { get; }

    /// <summary>The measurement for a box: (cx, cy, w/h, h) or (cx, cy, w, h).</summary>
    public double[] Measure(BoundingBox b)
    {
        double w = b.Width, h = b.Height;
        return new[] { (double)b.CenterX, b.CenterY, Form == BoxStateForm.Xyah ? w / Math.Max(h, 1e-9) : w, h };
    }

    /// <summary>The box a state's first four entries describe.</summary>
    public BoundingBox ToBox(double[] mean)
    {
        double h = mean[3], w = Form == BoxStateForm.Xyah ? mean[2] * mean[3] : mean[2];
        return new BoundingBox((float)(mean[0] - w / 2), (float)(mean[1] - h / 2), (float)(mean[0] + w / 2), (float)(mean[1] + h / 2));
    }

    /// <summary>A new track: the measured box with zero velocity, and a wide covariance (velocities unknown).</summary>
    public KalmanState Initiate(double[] z)
    {
        var mean = new double[8];
        Array.Copy(z, mean, 4);
        var (pos, vel) = Noise(z, 2 * PositionWeight, 10 * VelocityWeight);
        var cov = new double[8, 8];
        for (int i = 0; i < 4; i++) { cov[i, i] = pos[i] * pos[i]; cov[i + 4, i + 4] = vel[i] * vel[i]; }
        return new KalmanState(mean, cov);
    }

    /// <summary>One frame ahead: x ← F x, P ← F P Fᵀ + Q, with F adding each velocity to its coordinate.</summary>
    public void Predict(KalmanState s)
    {
        var (pos, vel) = Noise(s.Mean, PositionWeight, VelocityWeight);
        var m = s.Mean;
        for (int i = 0; i < 4; i++) m[i] += m[i + 4];
        var p = s.Covariance;
        // P F^T: column i gains column i+4; then F (P F^T): row i gains row i+4.
        for (int r = 0; r < 8; r++) for (int i = 0; i < 4; i++) p[r, i] += p[r, i + 4];
        for (int i = 0; i < 4; i++) for (int c = 0; c < 8; c++) p[i, c] += p[i + 4, c];
        for (int i = 0; i < 4; i++) { p[i, i] += pos[i] * pos[i]; p[i + 4, i + 4] += vel[i] * vel[i]; }
    }

    /// <summary>Corrects the state with a measured box: the standard Kalman update with H = [I₄ 0].</summary>
    public void Update(KalmanState s, double[] z)
    {
        var (r, _) = Noise(s.Mean, PositionWeight, 0);
        if (Form == BoxStateForm.Xyah) r[2] = 1e-1;
        var p = s.Covariance;
        // S = H P Hᵀ + R (the top-left 4×4 block plus the measurement noise).
        var sm = new double[4, 4];
        for (int i = 0; i < 4; i++) for (int j = 0; j < 4; j++) sm[i, j] = p[i, j] + (i == j ? r[i] * r[i] : 0);
        var sInv = Invert4(sm);
        // K = P Hᵀ S⁻¹ (8×4): P Hᵀ is P's first four columns.
        var k = new double[8, 4];
        for (int i = 0; i < 8; i++)
            for (int j = 0; j < 4; j++)
            {
                double acc = 0;
                for (int t = 0; t < 4; t++) acc += p[i, t] * sInv[t, j];
                k[i, j] = acc;
            }
        var innovation = new double[4];
        for (int i = 0; i < 4; i++) innovation[i] = z[i] - s.Mean[i];
        for (int i = 0; i < 8; i++)
            for (int j = 0; j < 4; j++) s.Mean[i] += k[i, j] * innovation[j];
        // P ← P − K H P (H P is P's first four rows).
        var kh = new double[8, 8];
        for (int i = 0; i < 8; i++)
            for (int c = 0; c < 8; c++)
            {
                double acc = 0;
                for (int t = 0; t < 4; t++) acc += k[i, t] * p[t, c];
                kh[i, c] = acc;
            }
        for (int i = 0; i < 8; i++) for (int c = 0; c < 8; c++) p[i, c] -= kh[i, c];
    }

    /// <summary>
    /// Moves a state by the camera's motion (BoT-SORT's GMC): the 2×2 part of <paramref name="affine"/> turns each
    /// coordinate pair (centre, size, and their velocities) and its covariance; the translation moves the centre.
    /// </summary>
    public static void ApplyCameraMotion(KalmanState s, double[,] affine)
    {
        double a = affine[0, 0], b = affine[0, 1], c = affine[1, 0], d = affine[1, 1];
        var m = s.Mean;
        for (int i = 0; i < 8; i += 2) (m[i], m[i + 1]) = (a * m[i] + b * m[i + 1], c * m[i] + d * m[i + 1]);
        m[0] += affine[0, 2];
        m[1] += affine[1, 2];
        // P ← R₈ P R₈ᵀ with R₈ = I₄ ⊗ R: rows, then columns, pair by pair.
        var p = s.Covariance;
        for (int col = 0; col < 8; col++)
            for (int i = 0; i < 8; i += 2) (p[i, col], p[i + 1, col]) = (a * p[i, col] + b * p[i + 1, col], c * p[i, col] + d * p[i + 1, col]);
        for (int row = 0; row < 8; row++)
            for (int j = 0; j < 8; j += 2) (p[row, j], p[row, j + 1]) = (a * p[row, j] + b * p[row, j + 1], c * p[row, j] + d * p[row, j + 1]);
    }

    (double[] Pos, double[] Vel) Noise(double[] box, double posWeight, double velWeight)
    {
        double h = box[3], w = Form == BoxStateForm.Xyah ? h : box[2];
        double third = Form == BoxStateForm.Xyah ? 1e-2 : posWeight * w;
        var pos = new[] { posWeight * (Form == BoxStateForm.Xyah ? h : w), posWeight * h, third, posWeight * h };
        var vel = new[] { velWeight * (Form == BoxStateForm.Xyah ? h : w), velWeight * h, Form == BoxStateForm.Xyah ? 1e-5 : velWeight * w, velWeight * h };
        return (pos, vel);
    }

    // Gauss–Jordan with partial pivoting; S is symmetric positive definite, so this never meets a zero pivot.
    static double[,] Invert4(double[,] a)
    {
        const int n = 4;
        var m = new double[n, 2 * n];
        for (int i = 0; i < n; i++) { for (int j = 0; j < n; j++) m[i, j] = a[i, j]; m[i, n + i] = 1; }
        for (int c = 0; c < n; c++)
        {
            int piv = c;
            for (int r = c + 1; r < n; r++) if (Math.Abs(m[r, c]) > Math.Abs(m[piv, c])) piv = r;
            if (Math.Abs(m[piv, c]) < 1e-300) throw new InvalidOperationException("Kalman innovation covariance is singular");
            if (piv != c) for (int j = 0; j < 2 * n; j++) (m[c, j], m[piv, j]) = (m[piv, j], m[c, j]);
            double d = m[c, c];
            for (int j = 0; j < 2 * n; j++) m[c, j] /= d;
            for (int r = 0; r < n; r++)
            {
                if (r == c || m[r, c] == 0) continue;
                double f = m[r, c];
                for (int j = 0; j < 2 * n; j++) m[r, j] -= f * m[c, j];
            }
        }
        var inv = new double[n, n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) inv[i, j] = m[i, n + j];
        return inv;
    }
}
