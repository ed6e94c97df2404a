import { AppContext } from './context';
import type { AppController } from './controller';
import { ConditionsPanel } from './components/ConditionsPanel';
import { DisplayPanel } from './components/DisplayPanel';
import { FilesPanel } from './components/FilesPanel';
import { PlacePanel } from './components/PlacePanel';
import { BatchExportPanel } from './components/BatchExportPanel';
import { DatasetPanel } from './components/DatasetPanel';
import { FullSizePanel } from './components/FullSizePanel';
import { Notices } from './components/Notices';
import { StatusBar } from './components/StatusBar';
import { SubjectPanel } from './components/SubjectPanel';
import { TeachStage } from './components/teach/TeachStage';
import { PresentationToggle, TeachSections } from './components/teach/TeachSections';
import { ReviewEntry } from './components/review/ReviewEntry';
import { VolumesPanel } from './components/VolumesPanel';

export function App({ controller }: { controller: AppController }) {
  return (
    <AppContext.Provider value={controller}>
      <div className="app">
        <header className="topbar">
          <h1>BrainSynth</h1>
          <span className="subtitle">interactive brain MRI synthesizer</span>
          <PresentationToggle />
          <ReviewEntry />
        </header>
        <div className="body">
          <aside className="panel" aria-label="Controls">
            <Notices />
            <section aria-labelledby="h-conditions">
              <h2 id="h-conditions">Conditions</h2>
              <ConditionsPanel />
              <PlacePanel />
            </section>
            <section aria-labelledby="h-subject">
              <h2 id="h-subject">Subject</h2>
              <SubjectPanel />
            </section>
            <section aria-labelledby="h-display">
              <h2 id="h-display">Display</h2>
              <DisplayPanel />
            </section>
            <section aria-labelledby="h-files">
              <h2 id="h-files">Files</h2>
              <FilesPanel />
            </section>
            <section aria-labelledby="h-batch">
              <h2 id="h-batch">Batch export (BIDS)</h2>
              <BatchExportPanel />
            </section>
            <section aria-labelledby="h-fullsize">
              <h2 id="h-fullsize">Full size</h2>
              <FullSizePanel />
              <DatasetPanel />
            </section>
            <TeachSections />
            <VolumesPanel />
          </aside>
          <main className="viewer" aria-label="Viewer">
            <TeachStage />
          </main>
        </div>
        <StatusBar />
        <footer className="footer">
          Synthetic images for research and teaching only — not for diagnosis or clinical use.
        </footer>
      </div>
    </AppContext.Provider>
  );
}
