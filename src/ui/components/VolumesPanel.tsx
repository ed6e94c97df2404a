import { useEngine } from '../context';

/** Regional volumes measured on the current label map (mL). */
export function VolumesPanel() {
  const volumes = useEngine((s) => s.volume?.metadata.regionalVolumesMl ?? null);
  if (!volumes) return null;
  const rows = Object.entries(volumes);
  return (
    <details className="volumes">
      <summary>Measured volumes</summary>
      <table>
        <tbody>
          {rows.map(([name, ml]) => (
            <tr key={name}>
              <th scope="row">{name}</th>
              <td>{ml.toFixed(1)} mL</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}
