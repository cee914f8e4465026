// Alerts on what the app logs (docs/operations.md, Alerts): scheduled log queries on Application
// Insights over the JSON lines the app writes (`invocation {...}`, `timer run {...}`,
// `outbox backlog {...}`), declared in alert-rules.json, and an action group that emails the
// operators.

@description('Location of the alert rules.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Suffix that makes resource names unique.')
param resourceToken string

@description('Resource id of the Application Insights component the app logs to.')
param applicationInsightsId string

@description('Where alerts are emailed.')
param alertEmail string

// Literal in the compiled template, so the tests read the very queries Azure receives.
var rules = loadJsonContent('alert-rules.json').rules

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: 'ag-operators-${resourceToken}'
  location: 'Global'
  tags: tags
  properties: {
    groupShortName: 'operators'
    enabled: true
    emailReceivers: [
      {
        name: 'operators'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

resource alertRules 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [
  for rule in rules: {
    name: 'alert-${rule.key}-${resourceToken}'
    location: location
    tags: tags
    properties: {
      displayName: rule.displayName
      description: 'What it means and what to do: docs/operations.md, Alerts (${rule.key}).'
      severity: rule.severity
      enabled: true
      scopes: [applicationInsightsId]
      evaluationFrequency: rule.frequency
      windowSize: rule.window
      overrideQueryTimeRange: rule.lookback
      criteria: {
        allOf: [
          {
            query: join(rule.query, '\n')
            timeAggregation: 'Count'
            operator: 'GreaterThan'
            threshold: 0
            failingPeriods: {
              numberOfEvaluationPeriods: 1
              minFailingPeriodsToAlert: 1
            }
          }
        ]
      }
      autoMitigate: true
      actions: {
        actionGroups: [actionGroup.id]
      }
    }
  }
]
