import { t } from '../shared/prefs.js';
import { session, sessionLoaded } from '../shared/session.js';
import { SyncIndicator } from '../shared/ui/SyncIndicator.jsx';
import { UpdatePrompt } from '../shared/ui/UpdatePrompt.jsx';
import { BottomNav } from './BottomNav.jsx';
import { currentScreen } from './navigation.js';
import { Home } from './screens/Home.jsx';
import { Assignment } from './screens/Assignment.jsx';
import { Notes } from './screens/Notes.jsx';
import { Settings } from './screens/Settings.jsx';
import { SignIn } from './screens/SignIn.jsx';
import { Notices } from './ui/Notices.jsx';
import { AlertBanner } from './ui/AlertBanner.jsx';
import { myUnit } from './lib/state.js';

const SCREEN_COMPONENTS = { home: Home, assignment: Assignment, notes: Notes, settings: Settings };

export function App() {
  if (!sessionLoaded.value) return null;
  if (!session.value) {
    return (
      <div class="officer officer--signed-out">
        <UpdatePrompt />
        <main class="officer__main">
          <SignIn />
        </main>
      </div>
    );
  }
  const Screen = SCREEN_COMPONENTS[currentScreen.value];
  const unit = myUnit.value;
  return (
    <div class="officer">
      <header class="top-bar">
        <h1 class="top-bar__title">
          <span data-testid="call-sign">{unit?.call_sign ?? t('app.name')}</span>
          <span class="top-bar__who">{session.value.display_name}</span>
        </h1>
        <SyncIndicator />
      </header>
      <AlertBanner />
      <Notices />
      <UpdatePrompt />
      <main class="officer__main">
        <Screen />
      </main>
      <BottomNav />
    </div>
  );
}
